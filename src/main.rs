//! The `podawcza` command line: serve, ingest, inspect and export the register.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use podawcza::app::App;
use podawcza::config::Config;
use podawcza::model::{format_time, State, Submission};
use podawcza::storage::{audit, queries, work};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "podawcza",
    version,
    about = "Elektroniczna skrzynka podawcza: intake, register, verification, dispatch"
)]
struct Cli {
    /// Configuration file (else $PODAWCZA_CONFIG, else ./config.toml, else built-in defaults).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations.
    Migrate,
    /// Register .eml files, folders of them and Maildir folders, then process them.
    Ingest {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Only register; leave processing to `serve` or `process`.
        #[arg(long)]
        no_process: bool,
        /// Messages per transaction.
        #[arg(long, default_value_t = 64)]
        batch: usize,
    },
    /// Run the pipeline workers until no work is left.
    Process,
    /// Poll the configured IMAP mailboxes (for ever, or once with --once) and register new mail.
    Poll {
        /// One pass over every mailbox, then exit (waits for another poller's lease to end).
        #[arg(long)]
        once: bool,
    },
    /// Run the gateway: pipeline workers and the web server (/healthz).
    Serve {
        /// Register the demo messages from fixtures/demo first and print the register.
        #[arg(long)]
        demo: bool,
    },
    /// List submissions, newest first.
    Submissions {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Only this state (received, unpacked, verified, classified, dispatched, quarantined).
        #[arg(long)]
        state: Option<State>,
        /// Only this department.
        #[arg(long)]
        department: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Quarantined submissions with their reasons.
    Quarantine,
    /// One submission with its documents and audit trail (by id or registration number).
    Show {
        /// Id or registration number.
        id: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Write the original message and every document, byte-exact, into a folder.
    Export {
        /// Id or registration number.
        id: String,
        /// Target folder (created).
        dir: PathBuf,
    },
    /// Inspect files for signatures and print one JSON report per line.
    Verify {
        /// JSON output (the only format for now).
        #[arg(long)]
        json: bool,
        /// Validate against the trust anchors (PEM), CRLs and `intermediates/` in DIR, plus the
        /// trusted lists of `[trust] trusted_lists` (without it: integrity only).
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Validation time (RFC 3339; default: now).
        #[arg(long)]
        at: Option<String>,
        /// The signed file of a detached signature (matched by the name the signature gives; a
        /// single one also answers for a reference without a name).
        #[arg(long)]
        detached: Vec<PathBuf>,
        /// Files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Counts of submissions per state.
    Status,
    /// Trust material: check trusted lists.
    Trust {
        #[command(subcommand)]
        what: TrustCommand,
    },
    /// Generate test material (never real trust material).
    Fixtures {
        #[command(subcommand)]
        what: FixturesCommand,
    },
    /// Accounts of the inbox (clerks, intake office, administrators).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Tokens of the systems that use the JSON API.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token for a system; the token is printed once (only its hash is kept).
    Add {
        /// Name of the system (unique).
        name: String,
    },
    /// List tokens.
    List,
    /// Revoke the token of a system.
    Revoke {
        /// Name of the system.
        name: String,
    },
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Load trusted lists (ETSI TS 119 612; the EU list of lists first), check their
    /// signatures and print what each holds. Exit status 1 when a list is refused.
    Import {
        /// List files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Fetch the EU list of lists (`[trust] lotl_url`) and the national lists of
    /// `[trust] update_territories` from the addresses it gives, check them as `import` does
    /// and write those that pass into `[trust] lists_dir`. Exit status 1 when a list could not
    /// be fetched or was refused (the previous copy stays).
    Update {
        /// Address of the list of lists instead of `[trust] lotl_url`.
        #[arg(long)]
        lotl: Option<String>,
        /// `TERRITORY=URL`: fetch that territory's list from URL (a mirror) instead of the
        /// address the list of lists gives.
        #[arg(long = "list", value_name = "TERRITORY=URL")]
        lists: Vec<String>,
    },
}

#[derive(Subcommand)]
enum FixturesCommand {
    /// Write a fresh test PKI (fixed names and validity windows, new keys) into DIR.
    Pki {
        /// Target folder (created).
        #[arg(default_value = "fixtures/pki")]
        dir: PathBuf,
    },
    /// Write a one-page PDF of about BYTES signed (PAdES B-B) by the test PKI's qualified signer
    /// (benchmarks and manual tries of the upload page).
    Pdf {
        /// Approximate size in bytes.
        #[arg(long, default_value_t = 1_048_576)]
        bytes: usize,
        /// The test PKI entity that signs (qes-signer, pz-seal, revoked-signer, …).
        #[arg(long, default_value = "qes-signer")]
        signer: String,
        /// Sign in an incremental update after the document (the signature's hole near the end,
        /// as a resident's signing application signs an existing PDF) instead of in the
        /// document's first revision (the hole near the start).
        #[arg(long)]
        incremental: bool,
        /// The test PKI to sign with.
        #[arg(long, default_value = "fixtures/pki")]
        pki: PathBuf,
        /// Output file.
        out: PathBuf,
    },
    /// Sign the XAdES fixtures (enveloped, enveloping, detached pair, podpis zaufany, ASiC-E,
    /// attacks) with the test PKI of PKI (default: the committed one) into DIR.
    Xades {
        /// Target folder (created).
        #[arg(default_value = "fixtures/signed/xades")]
        dir: PathBuf,
        /// The test PKI to sign with.
        #[arg(long, default_value = "fixtures/pki")]
        pki: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account; the password is asked for (not echoed) unless --password-file is given.
    Add {
        /// Login (letters, digits, '.', '-', '_').
        login: String,
        /// Home department code (e.g. KM).
        #[arg(long)]
        department: String,
        /// clerk (one department), intake (Biuro Podawcze: all), admin (all, and manages users).
        #[arg(long)]
        role: String,
        /// Read the password from the first line of this file.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List accounts.
    List,
    /// Clear failed logins and the lock of an account.
    Unlock {
        /// Login.
        login: String,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PODAWCZA_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    if let Command::Verify {
        files,
        detached,
        trust,
        at,
        ..
    } = &cli.command
    {
        let validation = match trust {
            Some(dir) => Some(load_trust(cli.config.as_deref(), dir, at.as_deref())?),
            None => None,
        };
        return verify(files, detached, validation.as_ref());
    }
    if let Command::Trust {
        what: TrustCommand::Import { files },
    } = &cli.command
    {
        return trust_import(cli.config.as_deref(), files);
    }
    if let Command::Trust {
        what: TrustCommand::Update { lotl, lists },
    } = &cli.command
    {
        return trust_update(cli.config.as_deref(), lotl.as_deref(), lists);
    }
    if let Command::Fixtures { what } = &cli.command {
        return fixtures(what);
    }
    let mut config = Config::load(cli.config.as_deref(), std::env::vars())?;
    if matches!(cli.command, Command::Serve { demo: true }) {
        demo_trust(&mut config);
    }
    let app = App::open(config).await.context("opening the register")?;
    match cli.command {
        Command::Migrate => println!("migrations applied"),
        Command::Ingest {
            paths,
            no_process,
            batch,
        } => ingest(&app, &paths, no_process, batch).await?,
        Command::Process => {
            let s = podawcza::pipeline::run_until_idle(&app, app.config.pipeline.workers).await?;
            println!("dispatched {}, quarantined {}", s.dispatched, s.quarantined);
        }
        Command::Serve { demo } => serve(app.clone(), demo).await?,
        Command::Poll { once } => poll(app.clone(), once).await?,
        Command::Submissions {
            json,
            state,
            department,
            limit,
        } => {
            let filter = queries::ListFilter {
                state,
                department,
                limit,
            };
            print_list(&app, &queries::list(&app.db, &filter).await?, json);
        }
        Command::Quarantine => {
            let filter = queries::ListFilter {
                state: Some(State::Quarantined),
                department: None,
                limit: 0,
            };
            for s in queries::list(&app.db, &filter).await? {
                println!(
                    "{}\t{}\t{}",
                    s.registration_number,
                    s.id,
                    s.quarantine_reason.unwrap_or_default()
                );
            }
        }
        Command::Show { id, json } => show(&app, &id, json).await?,
        Command::Export { id, dir } => export(&app, &id, &dir).await?,
        Command::Status => {
            for (state, n) in work::counts_by_state(&app.db).await? {
                println!("{state}\t{n}");
            }
            mail_status(&app).await?;
        }
        Command::User { command } => user(&app, command).await?,
        Command::Token { command } => token(&app, command).await?,
        Command::Verify { .. } | Command::Fixtures { .. } | Command::Trust { .. } => {}
    }
    app.db.close().await;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn ingest(app: &Arc<App>, paths: &[PathBuf], no_process: bool, batch: usize) -> Result<()> {
    let files = podawcza::ingest::files::collect(paths)?;
    let register = podawcza::ingest::files::ingest_files(app, &files, batch, podawcza::clock::now);
    // Workers unpack and verify while registration goes on (the two overlap on the cores).
    let (s, r) = if no_process {
        (register.await?, None)
    } else {
        let (s, r) = podawcza::pipeline::alongside(app, register).await?;
        (s?, Some(r))
    };
    println!(
        "registered {}, duplicates {} (of {} files)",
        s.registered,
        s.duplicates,
        files.len()
    );
    if let Some(r) = r {
        println!("dispatched {}, quarantined {}", r.dispatched, r.quarantined);
    }
    Ok(())
}

async fn token(app: &App, command: TokenCommand) -> Result<()> {
    use podawcza::storage::public;
    match command {
        TokenCommand::Add { name } => {
            let (t, secret) = public::add_token(&app.db, &name, podawcza::clock::now()).await?;
            println!(
                "token for {} (shown once, keep it secret):\n{secret}",
                t.name
            );
        }
        TokenCommand::List => {
            for t in public::list_tokens(&app.db).await? {
                let state = t
                    .revoked_at
                    .map(|r| format!("revoked {r}"))
                    .unwrap_or_else(|| "active".into());
                println!("{:<24} created {}  {state}", t.name, t.created_at);
            }
        }
        TokenCommand::Revoke { name } => {
            if public::revoke_token(&app.db, &name, podawcza::clock::now()).await? {
                println!("revoked the token of {name}");
            } else {
                anyhow::bail!("no active token named {name}");
            }
        }
    }
    Ok(())
}

/// `serve --demo` without trust material of its own validates against the test PKI in
/// fixtures/pki and seals receipts with its test seal, so that the demo shows every verdict. Test
/// material only: said on the console, never used outside the demo.
fn demo_trust(config: &mut Config) {
    let pki = std::path::Path::new("fixtures/pki");
    if !pki.is_dir() {
        return;
    }
    let has_anchors = std::fs::read_dir(&config.trust.anchors_dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().to_ascii_lowercase();
            [".pem", ".crt", ".cer"].iter().any(|x| name.ends_with(x))
        })
    });
    if !has_anchors && config.trust.trusted_lists.is_empty() {
        let s = |p: &str| pki.join(p).display().to_string();
        config.trust.anchors_dir = s("anchors");
        config.trust.trusted_lists = vec![s("trusted-list.xml")];
        config.trust.list_signers = vec![s("tl-signer.crt.pem")];
        if let Ok(pem) = std::fs::read(pki.join("plid-root.crt.pem")) {
            if let Ok(der) = openssl::x509::X509::from_pem(&pem).and_then(|c| c.to_der()) {
                config.trust.personal_root_sha256 =
                    vec![podawcza::storage::blobs::sha256_hex(&der)];
            }
        }
        println!("Demo: podpisy weryfikowane względem TESTOWEJ infrastruktury (fixtures/pki).");
    }
    if config.receipt.seal_key.is_empty() && config.receipt.seal_cert.is_empty() {
        config.receipt.seal_key = pki.join("qseal.key.pem").display().to_string();
        config.receipt.seal_cert = pki.join("qseal.crt.pem").display().to_string();
        println!("Demo: poświadczenia pieczętowane TESTOWĄ pieczęcią (fixtures/pki/qseal).");
    }
}

async fn user(app: &App, command: UserCommand) -> Result<()> {
    use podawcza::storage::accounts;
    match command {
        UserCommand::Add {
            login,
            department,
            role,
            password_file,
        } => {
            let role: accounts::Role = role.parse()?;
            let password = match password_file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                None => {
                    let p = rpassword::prompt_password(format!("Hasło dla {login}: "))?;
                    let again = rpassword::prompt_password("Powtórz hasło: ")?;
                    if p != again {
                        bail!("the passwords differ");
                    }
                    p
                }
            };
            let now = podawcza::clock::now();
            accounts::add_user(&app.db, &login, &department, role, &password, now).await?;
            println!("user {login} added ({role}, {department})");
        }
        UserCommand::List => {
            for u in accounts::list_users(&app.db).await? {
                let locked = u.locked_until.map(|t| format_time(&t)).unwrap_or_default();
                println!("{}\t{}\t{}\t{}", u.login, u.department, u.role, locked);
            }
        }
        UserCommand::Unlock { login } => {
            if accounts::find_user(&app.db, &login).await?.is_none() {
                bail!("no user {login}");
            }
            accounts::clear_failures(&app.db, &login).await?;
            println!("user {login} unlocked");
        }
    }
    Ok(())
}

/// The password of the demo accounts (`serve --demo` only; printed at startup).
const DEMO_PASSWORD: &str = "demo-podawcza";

/// Creates the demo accounts that do not exist yet and prints them.
async fn demo_accounts(app: &App) -> Result<()> {
    use podawcza::storage::accounts::{self, Role};
    let accounts_wanted = [
        ("bp", "BP", Role::Intake),
        ("km", "KM", Role::Clerk),
        ("so", "SO", Role::Clerk),
        ("usc", "USC", Role::Clerk),
        ("admin", "BP", Role::Admin),
    ];
    println!("Konta demonstracyjne (hasło: {DEMO_PASSWORD}):");
    for (login, dept, role) in accounts_wanted {
        if accounts::find_user(&app.db, login).await?.is_none() {
            let now = podawcza::clock::now();
            accounts::add_user(&app.db, login, dept, role, DEMO_PASSWORD, now).await?;
        }
        println!("  {login:<6} {dept:<4} {role}");
    }
    Ok(())
}

async fn serve(app: Arc<App>, demo: bool) -> Result<()> {
    if demo {
        // Plain letters to every department, and signed ones of every kind (validated against
        // the test PKI: see demo_trust).
        let dirs: Vec<PathBuf> = ["fixtures/demo", "fixtures/demo-signed"]
            .iter()
            .map(PathBuf::from)
            .filter(|d| d.is_dir())
            .collect();
        ingest(&app, &dirs, false, 64).await?;
        demo_accounts(&app).await?;
        let filter = queries::ListFilter {
            limit: 50,
            ..Default::default()
        };
        print_list(&app, &queries::list(&app.db, &filter).await?, false);
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(podawcza::pipeline::run_forever(app.clone(), rx.clone()));
    let mail = tokio::spawn(podawcza::outbox::run_forever(app.clone(), rx.clone()));
    let poller = (!app.config.mailbox.enabled().is_empty()).then(|| {
        tokio::spawn(podawcza::ingest::mailbox::run_forever(
            app.clone(),
            rx.clone(),
        ))
    });
    let listener = tokio::net::TcpListener::bind(&app.config.web.listen)
        .await
        .with_context(|| format!("listening on {}", app.config.web.listen))?;
    println!("Podawcza listening on http://{}", listener.local_addr()?);
    drop(rx);
    axum::serve(
        listener,
        podawcza::web::router(app.clone())
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing the current batches");
        let _ = tx.send(true);
    })
    .await?;
    workers.await?;
    mail.await?;
    if let Some(p) = poller {
        p.await?;
    }
    Ok(())
}

async fn poll(app: Arc<App>, once: bool) -> Result<()> {
    if app.config.mailbox.enabled().is_empty() {
        bail!("no mailbox is enabled ([mailbox] enabled = true in the config)");
    }
    if once {
        let s = podawcza::ingest::mailbox::poll_once(&app).await?;
        println!(
            "registered {}, duplicates {}, oversized {}, re-marked {}",
            s.registered, s.duplicates, s.oversized, s.remarked
        );
        return Ok(());
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(podawcza::ingest::mailbox::run_forever(app.clone(), rx));
    let _ = tokio::signal::ctrl_c().await;
    let _ = tx.send(true);
    poller.await?;
    Ok(())
}

async fn mail_status(app: &App) -> Result<()> {
    for m in podawcza::ingest::mailbox::store::health(&app.db).await? {
        println!(
            "mailbox {}\tlast success {}\tbacklog {}\toversized {}\tunmarked {}\tquarantined {}{}",
            m.mailbox,
            m.last_success_at.as_deref().unwrap_or("never"),
            m.backlog,
            m.oversized,
            m.unmarked,
            m.quarantined,
            m.last_error
                .map(|e| format!("\tlast error: {e}"))
                .unwrap_or_default()
        );
    }
    for (state, n) in podawcza::outbox::store::counts(&app.db).await? {
        println!("outbox {state}\t{n}");
    }
    Ok(())
}

/// Ctrl-C or SIGTERM (what a service manager sends).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn print_list(app: &App, list: &[Submission], json: bool) {
    if json {
        for s in list {
            let line = serde_json::json!({
                "id": s.id, "registration_number": s.registration_number, "channel": s.channel,
                "received_at": format_time(&s.received_at), "sender": s.sender, "subject": s.subject,
                "department": s.department, "signed": s.signed.unwrap_or(false), "state": s.state,
            });
            println!("{line}");
        }
        return;
    }
    let tz = app.config.timezone();
    println!(
        "{:<16} {:<16} {:<7} {:<28} {:<36} {:<5} {:<7} STAN",
        "NUMER", "WPŁYNĘŁO", "KANAŁ", "NADAWCA", "TEMAT", "WYDZ.", "PODPIS"
    );
    for s in list {
        let signed = match s.signed {
            Some(true) => "podpis",
            Some(false) => "brak",
            None => "?",
        };
        println!(
            "{:<16} {:<16} {:<7} {:<28} {:<36} {:<5} {:<7} {}",
            s.registration_number,
            s.received_at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            s.channel.as_str(),
            clip(s.sender.as_deref().unwrap_or("-"), 28),
            clip(s.subject.as_deref().unwrap_or("(bez tematu)"), 36),
            s.department.as_deref().unwrap_or("-"),
            signed,
            s.state
        );
    }
}

fn clip(s: &str, n: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= n {
        clean
    } else {
        let mut out: String = clean.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

async fn show(app: &App, id: &str, json: bool) -> Result<()> {
    let Some(s) = queries::find(&app.db, id).await? else {
        bail!("no submission {id}")
    };
    let docs = queries::documents(&app.db, &s.id).await?;
    let events = audit::events(&app.db, &s.id).await?;
    if json {
        let v = serde_json::json!({ "submission": s, "documents": docs, "audit": events });
        println!("{v}");
        return Ok(());
    }
    let tz = app.config.timezone();
    println!("Numer:      {}", s.registration_number);
    println!("Id:         {}", s.id);
    println!(
        "Wpłynęło:   {} ({})",
        s.received_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %Z"),
        s.arrival_source
    );
    println!("Kanał:      {}", s.channel);
    println!(
        "Nadawca:    {} {}",
        s.sender_name.as_deref().unwrap_or(""),
        s.sender.as_deref().unwrap_or("-")
    );
    println!("Do:         {}", s.recipients.join(", "));
    println!(
        "Temat:      {}",
        s.subject.as_deref().unwrap_or("(bez tematu)")
    );
    println!("Stan:       {}", s.state);
    println!(
        "Wydział:    {} ({})",
        s.department.as_deref().unwrap_or("-"),
        s.routing_rule.as_deref().unwrap_or("-")
    );
    if let Some(r) = &s.quarantine_reason {
        println!("Kwarantanna: {r}");
    }
    println!(
        "Oryginał:   {} bajtów, SHA-256 {}",
        s.raw_size, s.raw_sha256
    );
    println!("\nDokumenty:");
    for d in &docs {
        let sigs = d
            .report
            .as_ref()
            .and_then(|r| r["signatures"].as_array())
            .map_or(0, Vec::len);
        let from = if d.container.is_empty() {
            String::new()
        } else {
            format!(" [z: {}]", d.container)
        };
        println!(
            "  {:>3}. {} ({}, {} B){}\n       SHA-256 {}  podpisy: {}",
            d.seq, d.name, d.media_type, d.size, from, d.sha256, sigs
        );
    }
    println!("\nHistoria:");
    for e in &events {
        println!(
            "  {}  {:<18} {:<22} {} {}",
            e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.detail,
            e.reason.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

async fn export(app: &App, id: &str, dir: &std::path::Path) -> Result<()> {
    let Some(s) = queries::find(&app.db, id).await? else {
        bail!("no submission {id}")
    };
    let docs = queries::documents(&app.db, &s.id).await?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut sums = String::new();
    let raw_name = match s.channel {
        podawcza::model::Channel::Email => "message.eml".to_string(),
        _ => "submission.raw".to_string(),
    };
    let raw = app.blobs.get_verified(&s.raw_sha256)?;
    std::fs::write(dir.join(&raw_name), &raw)?;
    sums.push_str(&format!("{}  {}\n", s.raw_sha256, raw_name));
    for d in &docs {
        let bytes = app.blobs.get_verified(&d.sha256)?;
        // The sender's file name never becomes a path: only a sanitised form, behind a number.
        let name = format!("{:03}-{}", d.seq, podawcza::ingest::safe_file_name(&d.name));
        std::fs::write(dir.join(&name), &bytes)?;
        sums.push_str(&format!("{}  {}\n", d.sha256, name));
    }
    std::fs::write(dir.join("SHA256SUMS"), &sums)?;
    println!(
        "exported {} files to {} (see SHA256SUMS)",
        docs.len() + 1,
        dir.display()
    );
    Ok(())
}

/// Trust material and validation time for `verify --trust DIR [--at T]`.
type Validation = (
    podawcza::signature::trust::Trust,
    chrono::DateTime<chrono::Utc>,
);

fn read_lists(files: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>> {
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            Ok((f.display().to_string(), bytes))
        })
        .collect()
}

fn load_trust(
    config: Option<&std::path::Path>,
    dir: &std::path::Path,
    at: Option<&str>,
) -> Result<Validation> {
    let config = Config::load(config, std::env::vars())?;
    let (trust, notes) = podawcza::signature::trust::Trust::from_config(&config.trust, Some(dir))?;
    for note in notes {
        eprintln!("{note}");
    }
    let at = match at {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("--at {t}: not an RFC 3339 time"))?
            .with_timezone(&chrono::Utc),
        None => podawcza::clock::now(),
    };
    Ok((trust, at))
}

fn trust_import(
    config: Option<&std::path::Path>,
    files: &[PathBuf],
) -> Result<std::process::ExitCode> {
    let config = Config::load(config, std::env::vars())?;
    let signers: Vec<PathBuf> = config
        .trust
        .list_signers
        .iter()
        .map(PathBuf::from)
        .collect();
    let pinned = podawcza::signature::trust::store::read_certificates(&signers)?;
    let mut trust = podawcza::signature::trust::Trust::default();
    let notes = trust.add_lists(&read_lists(files)?, &pinned);
    for note in &notes {
        println!("{note}");
    }
    Ok(if trust.lists.len() == files.len() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

fn trust_update(
    config: Option<&std::path::Path>,
    lotl: Option<&str>,
    lists: &[String],
) -> Result<std::process::ExitCode> {
    use podawcza::signature::trust::{http::Limits, update};
    let config = Config::load(config, std::env::vars())?;
    let c = &config.trust;
    let signers: Vec<PathBuf> = c.list_signers.iter().map(PathBuf::from).collect();
    let mut overrides = Vec::new();
    for l in lists {
        let (t, u) = l
            .split_once('=')
            .with_context(|| format!("--list {l}: expected TERRITORY=URL"))?;
        overrides.push((t.trim().to_ascii_uppercase(), u.trim().to_string()));
    }
    let mut territories = c.update_territories.clone();
    for (t, _) in &overrides {
        if !territories.contains(t) {
            territories.push(t.clone());
        }
    }
    let req = update::Request {
        lotl_url: lotl.map_or_else(|| c.lotl_url.clone(), str::to_string),
        territories,
        overrides,
        lists_dir: PathBuf::from(&c.lists_dir),
        limits: Limits {
            timeout: std::time::Duration::from_secs(c.fetch_timeout_secs.max(1)),
            max_bytes: c.fetch_max_bytes,
        },
        pinned: podawcza::signature::trust::store::read_certificates(&signers)?,
    };
    let done = match update::update(&req) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return Ok(std::process::ExitCode::FAILURE);
        }
    };
    for note in &done.notes {
        println!("{note}");
    }
    for path in &done.written {
        println!("zapisano {}", path.display());
    }
    Ok(if done.complete {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

fn verify(
    files: &[PathBuf],
    detached: &[PathBuf],
    validation: Option<&Validation>,
) -> Result<std::process::ExitCode> {
    let mut code = std::process::ExitCode::SUCCESS;
    let mut pairs = Vec::new();
    for d in detached {
        let bytes =
            std::fs::read(d).with_context(|| format!("reading --detached {}", d.display()))?;
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        pairs.push((name, bytes));
    }
    let resolve = |wanted: &str| -> Option<Vec<u8>> {
        let base = wanted.rsplit('/').next().unwrap_or(wanted);
        match pairs.iter().find(|(n, _)| n == wanted || n == base) {
            Some((_, b)) => Some(b.clone()),
            None if pairs.len() == 1 => pairs.first().map(|(_, b)| b.clone()),
            None => None,
        }
    };
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match std::fs::read(f) {
            Ok(bytes) => {
                let report = match validation {
                    Some((trust, at)) => podawcza::signature::inspect_validated(
                        &name,
                        "application/octet-stream",
                        &bytes,
                        &resolve,
                        trust,
                        *at,
                    ),
                    None => podawcza::signature::inspect_with(
                        &name,
                        "application/octet-stream",
                        &bytes,
                        &resolve,
                    ),
                };
                if !emit(&serde_json::to_string(&report)?) {
                    return Ok(code);
                }
            }
            Err(e) => {
                code = std::process::ExitCode::FAILURE;
                let line = serde_json::json!({ "file": name, "error": e.to_string() });
                if !emit(&line.to_string()) {
                    return Ok(code);
                }
            }
        }
    }
    Ok(code)
}

/// Writes one line to stdout; `false` when the reader has gone (`| head`): stop quietly.
fn emit(line: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

fn fixtures(what: &FixturesCommand) -> Result<std::process::ExitCode> {
    match what {
        FixturesCommand::Pki { dir } => {
            use podawcza::fixtures::pki;
            let made = pki::generate()?;
            let listed = pki::write(&made, dir)?;
            for (name, subject, sha256) in listed {
                println!("{name}\t{sha256}\t{subject}");
            }
        }
        FixturesCommand::Pdf {
            bytes,
            signer,
            incremental,
            pki,
            out,
        } => {
            let pki = podawcza::fixtures::pki::load(pki)?;
            let pdf = if *incremental {
                podawcza::fixtures::pdf::large_signed_incremental(&pki, signer, *bytes)?
            } else {
                podawcza::fixtures::pdf::large_signed(&pki, signer, *bytes)?
            };
            std::fs::write(out, &pdf).with_context(|| format!("writing {}", out.display()))?;
            println!("{}\t{}", out.display(), pdf.len());
        }
        FixturesCommand::Xades { dir, pki } => {
            use podawcza::fixtures::{pki as test_pki, xades};
            let pki = test_pki::load(pki)?;
            for name in xades::write(&pki, dir)? {
                println!("{}", dir.join(name).display());
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
