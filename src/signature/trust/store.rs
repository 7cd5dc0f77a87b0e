//! Trust material (DESIGN.md "Trust"): PEM trust anchors, cached intermediates and CRLs from a
//! directory (`--trust DIR`, `[trust] anchors_dir`), the services of loaded trusted lists
//! (ETSI TS 119 612), and the settings of the Polish kinds. Never compiled into the binary.

use super::tl::TrustedList;
use openssl::x509::{X509Crl, X509};
use std::path::Path;

/// Why trust material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not the certificate, CRL or list its name says.
    #[error("{path}: {message}")]
    Bad {
        /// The path.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// How Polish signature kinds are recognised (config `[trust]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSettings {
    /// SHA-256 (hex) of the `pl.ID Root CA` certificates: a path ending there is podpis osobisty.
    pub personal_root_sha256: Vec<String>,
    /// Subject attributes (`organizationIdentifier=VATPL-5252955037`) that all must match for
    /// the podpis zaufany seal.
    pub trusted_profile_subject: Vec<(String, String)>,
    /// Without revocation data for the signing certificate the result is INDETERMINATE /
    /// TRY_LATER (EN 319 102-1 §5.2.5); `false` only warns.
    pub require_revocation: bool,
}

impl Default for KindSettings {
    fn default() -> Self {
        KindSettings {
            personal_root_sha256: vec![
                "5a545dc780b8400900b2c1400e871c43f0e0f3ad33ca31c508a9e9b1ab731095".into(),
            ],
            trusted_profile_subject: vec![(
                "organizationIdentifier".into(),
                "VATPL-5252955037".into(),
            )],
            require_revocation: true,
        }
    }
}

/// Everything validation trusts or caches.
#[derive(Default)]
pub struct Trust {
    /// Trust anchors (RFC 5280 §6.1.1 (d)); need not be self-signed.
    pub anchors: Vec<X509>,
    /// Cached intermediate certificates (untrusted, used to build paths).
    pub intermediates: Vec<X509>,
    /// Cached CRLs (RFC 5280 §5).
    pub crls: Vec<X509Crl>,
    /// Trusted lists whose signatures were checked on load.
    pub lists: Vec<TrustedList>,
    /// Settings of the Polish kinds.
    pub settings: KindSettings,
    /// Online revocation, the revocation cache and freshness.
    pub revocation: super::online::Settings,
    /// What validation derives from the above once (the anchors' store, the lists' index);
    /// rebuilt on its own when anchors or lists are added.
    pub cache: super::cache::TrustCache,
}

fn io(path: &Path, source: std::io::Error) -> TrustError {
    TrustError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn bad(path: &Path, message: impl std::fmt::Display) -> TrustError {
    TrustError::Bad {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

impl Trust {
    /// Loads a directory: every `*.pem`, `*.crt`, `*.cer` certificate is an anchor (a file may
    /// hold several), every `*.crl` / `*.crl.der` / `*.crl.pem` a cached CRL, certificates in
    /// an `intermediates/` subdirectory are cached intermediates. Other files are ignored.
    pub fn load_dir(dir: &Path, settings: KindSettings) -> Result<Trust, TrustError> {
        let mut trust = Trust {
            settings,
            ..Trust::default()
        };
        trust.anchors = read_dir_certs(dir, &mut trust.crls)?;
        let inter = dir.join("intermediates");
        if inter.is_dir() {
            trust.intermediates = read_dir_certs(&inter, &mut trust.crls)?;
        }
        Ok(trust)
    }

    /// Adds trusted lists (TS 119 612 §5.7): every list only when its signer is one the list
    /// of lists announces or one of `pinned`; the EU list of lists, while nothing is pinned, on
    /// its signature being intact. Returns one note per file (what was taken or refused, and why).
    pub fn add_lists(&mut self, files: &[(String, Vec<u8>)], pinned: &[X509]) -> Vec<String> {
        let mut notes = Vec::new();
        for (name, loaded) in super::tl::load::load_set(files, pinned) {
            match loaded {
                Ok(l) if accept(&l, pinned.is_empty()) => {
                    notes.push(format!(
                        "{name}: {} list no. {}, {} services, {}",
                        l.territory,
                        l.sequence,
                        l.services.len(),
                        l.signature
                    ));
                    self.lists.push(l);
                    self.cache.clear();
                }
                Ok(l) => notes.push(format!("{name}: refused, {}", l.signature)),
                Err(e) => notes.push(format!("{name}: refused, {e}")),
            }
        }
        notes
    }

    /// Everything `[trust]` names: the anchors directory (or `anchors_dir` when given, as
    /// `verify --trust DIR`), the trusted lists checked against the list of lists and the
    /// configured list signers, and the kind settings. Returns the notes of the lists.
    pub fn from_config(
        c: &crate::config::TrustConfig,
        anchors_dir: Option<&Path>,
    ) -> Result<(Trust, Vec<String>), TrustError> {
        let dir = anchors_dir.map_or_else(
            || Path::new(&c.anchors_dir).to_path_buf(),
            Path::to_path_buf,
        );
        let mut trust = Trust::load_dir(&dir, KindSettings::from_config(c))?;
        trust.revocation = super::online::Settings::from_config(c, &dir);
        let signers: Vec<std::path::PathBuf> = c.list_signers.iter().map(Into::into).collect();
        let pinned = read_certificates(&signers)?;
        let mut files = Vec::new();
        for f in &c.trusted_lists {
            let path = Path::new(f);
            files.push((f.clone(), std::fs::read(path).map_err(|e| io(path, e))?));
        }
        let notes = trust.add_lists(&files, &pinned);
        Ok((trust, notes))
    }

    /// Every anchor: the directory's and the certificates of the CA services of the loaded
    /// trusted lists (TS 119 615 §4.1: the list is the trust anchor of qualified services).
    pub fn all_anchors(&self) -> impl Iterator<Item = &X509> {
        self.anchors
            .iter()
            .chain(self.lists.iter().flat_map(|l| l.ca_certificates()))
    }
}

/// TS 119 612 §5.7: a list is taken when its signer is announced; the EU list of lists has no
/// parent, so while no signer is pinned (`[trust] list_signers`) an intact one is taken as is.
fn accept(l: &TrustedList, nothing_pinned: bool) -> bool {
    use super::tl::SignatureCheck::*;
    match &l.signature {
        Verified => true,
        SignerNotAnnounced => nothing_pinned && l.territory == "EU",
        Unchecked | Broken(_) => false,
    }
}

impl KindSettings {
    /// Settings from `[trust]` (`attribute=value` pairs for the podpis zaufany subject).
    pub fn from_config(c: &crate::config::TrustConfig) -> KindSettings {
        KindSettings {
            personal_root_sha256: c.personal_root_sha256.clone(),
            trusted_profile_subject: c
                .trusted_profile_subject
                .iter()
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect(),
            require_revocation: c.require_revocation,
        }
    }
}

/// Reads the certificates of PEM files (configured list signers).
pub fn read_certificates(files: &[std::path::PathBuf]) -> Result<Vec<X509>, TrustError> {
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| io(f, e))?;
        out.extend(X509::stack_from_pem(&bytes).map_err(|e| bad(f, e))?);
    }
    Ok(out)
}

fn read_dir_certs(dir: &Path, crls: &mut Vec<X509Crl>) -> Result<Vec<X509>, TrustError> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut certs = Vec::new();
    for path in names {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let is_crl = name.ends_with(".crl") || name.contains(".crl.");
        let is_cert = [".pem", ".crt", ".cer"].iter().any(|e| name.ends_with(e));
        if !is_crl && !is_cert {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        if is_crl {
            let crl = X509Crl::from_der(&bytes).or_else(|_| X509Crl::from_pem(&bytes));
            crls.push(crl.map_err(|e| bad(&path, e))?);
        } else if bytes.windows(10).any(|w| w == b"-----BEGIN") {
            certs.extend(X509::stack_from_pem(&bytes).map_err(|e| bad(&path, e))?);
        } else {
            certs.push(X509::from_der(&bytes).map_err(|e| bad(&path, e))?);
        }
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_polish_list_only_with_the_eu_list_of_lists() {
        let corpus = |f: &str| {
            let base = std::env::var("PODAWCZA_CORPUS").unwrap_or_else(|_| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into()
            });
            std::fs::read(format!("{base}/dss/trusted-lists/{f}")).unwrap()
        };
        let mut alone = Trust::default();
        alone.add_lists(&[("PL.xml".into(), corpus("PL.xml"))], &[]);
        assert!(alone.lists.is_empty());
        let mut both = Trust::default();
        let notes = both.add_lists(
            &[
                ("EU.xml".into(), corpus("EU.xml")),
                ("PL.xml".into(), corpus("PL.xml")),
            ],
            &[],
        );
        assert_eq!(both.lists.len(), 2, "{notes:?}");
        assert!(both.all_anchors().count() > 30);
    }

    #[test]
    fn reads_the_trusted_profile_subject_from_the_config() {
        let s = KindSettings::from_config(&crate::config::TrustConfig::default());
        assert_eq!(s, KindSettings::default());
    }

    #[test]
    fn loads_the_test_anchors_and_crls() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki/anchors");
        let t = Trust::load_dir(&dir, KindSettings::default()).unwrap();
        assert_eq!(t.anchors.len(), 2);
        assert_eq!(t.crls.len(), 4);
    }
}
