//! Opening an IMAP session: TCP, TLS (implicit or STARTTLS, the certificate always checked, an
//! extra CA file for private servers), the greeting and LOGIN, each step under a timeout.
//!
//! TLS goes through `native-tls` (OpenSSL on Linux, which the project links already for signature
//! work), so a CA file is a plain PEM bundle and host names are checked by the same library.

use super::MailboxError;
use crate::config::{MailboxConfig, TlsMode};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_native_tls::TlsStream;

/// A logged-in IMAP session.
pub type Imap = async_imap::Session<TlsStream<TcpStream>>;

/// Runs one step of the conversation with the server under the configured timeout.
pub async fn step<T, E: std::fmt::Display>(
    secs: u64,
    what: &'static str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, MailboxError> {
    match tokio::time::timeout(Duration::from_secs(secs), fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(MailboxError::Server {
            step: what,
            message: e.to_string(),
        }),
        Err(_) => Err(MailboxError::Timeout { step: what, secs }),
    }
}

/// The TLS connector: the system's roots plus the configured CA file. Built once per CA file
/// content and then shared: building one makes OpenSSL 3 parse the whole system trust store
/// (about 500 million instructions, counted with callgrind), which every poll, every IDLE wake-up and every
/// reconnect paid before its first byte. The CA file is read again each time, so a replaced file
/// gets a connector of its own; the system store is read once per process.
pub fn tls_connector(ca_file: &str) -> Result<tokio_native_tls::TlsConnector, MailboxError> {
    type Cache = std::sync::Mutex<Vec<((String, Vec<u8>), tokio_native_tls::TlsConnector)>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let pem = if ca_file.is_empty() {
        Vec::new()
    } else {
        std::fs::read(ca_file).map_err(|e| MailboxError::Tls(format!("{ca_file}: {e}")))?
    };
    let key = (ca_file.to_string(), pem);
    let cache = CACHE.get_or_init(|| std::sync::Mutex::new(Vec::new()));
    if let Some(c) = cache
        .lock()
        .ok()
        .and_then(|v| v.iter().find(|(k, _)| *k == key).map(|(_, c)| c.clone()))
    {
        return Ok(c);
    }
    let mut builder = native_tls::TlsConnector::builder();
    if !key.1.is_empty() {
        let certs = native_tls::Certificate::stack_from_pem(&key.1)
            .map_err(|e| MailboxError::Tls(format!("{ca_file}: {e}")))?;
        for c in certs {
            builder.add_root_certificate(c);
        }
    }
    let c = builder
        .build()
        .map_err(|e| MailboxError::Tls(e.to_string()))?;
    let c = tokio_native_tls::TlsConnector::from(c);
    if let Ok(mut v) = cache.lock() {
        // A few CA files at most in one process (one per mailbox); a replaced one drops the oldest.
        if v.len() >= 8 {
            v.remove(0);
        }
        v.push((key, c.clone()));
    }
    Ok(c)
}

/// Connects and logs in.
pub async fn connect(cfg: &MailboxConfig) -> Result<Imap, MailboxError> {
    let t = cfg.timeout_secs;
    let tcp = step(
        t,
        "connect",
        TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await?;
    let tls = tls_connector(&cfg.ca_file)?;
    let stream = match cfg.tls {
        TlsMode::Implicit => {
            let s = step(t, "tls", tls.connect(&cfg.host, tcp)).await?;
            let mut client = async_imap::Client::new(s);
            greeting(t, &mut client).await?;
            client.into_inner()
        }
        TlsMode::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(t, &mut client).await?;
            step(
                t,
                "starttls",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            step(t, "tls", tls.connect(&cfg.host, client.into_inner())).await?
        }
    };
    let client = async_imap::Client::new(stream);
    let login = client.login(&cfg.user, &cfg.password);
    match tokio::time::timeout(Duration::from_secs(t), login).await {
        Ok(Ok(session)) => Ok(session),
        // The server's answer, never the password.
        Ok(Err((e, _))) => Err(MailboxError::Server {
            step: "login",
            message: e.to_string(),
        }),
        Err(_) => Err(MailboxError::Timeout {
            step: "login",
            secs: t,
        }),
    }
}

async fn greeting<S>(t: u64, client: &mut async_imap::Client<S>) -> Result<(), MailboxError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match step(t, "greeting", client.read_response()).await? {
        Some(_) => Ok(()),
        None => Err(MailboxError::Server {
            step: "greeting",
            message: "connection closed before the greeting".into(),
        }),
    }
}
