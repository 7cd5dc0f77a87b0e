//! The receipt ("urzędowe poświadczenie przedłożenia", UPP): the office's proof that a submission
//! arrived — the office's full name, the date and time of arrival and of making the receipt, the
//! registration number (RPW), and each document with its SHA-256 and a plain-Polish verdict.
//!
//! Made once a submission is registered (upload page, JSON API, e-mail acknowledgement), in two
//! forms with the same facts:
//! - [`pdf()`]: a printable A4 PDF ([`mod@pdf`], a small PDF 1.7 writer of its own);
//! - [`xml()`]: an XML document in the namespace [`xml::NAMESPACE`] (`urn:podawcza:upp:1`),
//!   described in [`mod@xml`]; [`sealed_xml`] seals it with the office's qualified seal as an
//!   enveloped XAdES-B-B signature, which the project's own verifier and `xmlsec1` accept.
//!
//! The seal is the `[receipt]` key and certificate of `config.toml` ([`Seal::load`]); without
//! them receipts are unsigned (PDF and unsigned XML only), which is logged once at load.

pub mod pdf;
pub mod xml;

pub use pdf::pdf;
pub use xml::{sealed_xml, xml};

use crate::signature::xml::sign::{SignError, SigningKey};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Everything a receipt states (the caller fills it from the register).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The office's full name (`[office] name`).
    pub office: String,
    /// The registration number (RPW), e.g. `RPW/12/2026`.
    pub registration_number: String,
    /// The submission's identifier.
    pub submission_id: String,
    /// How it arrived: `upload`, `api` or `email`.
    pub channel: String,
    /// When it arrived (the register's arrival time).
    pub received_at: DateTime<Utc>,
    /// When this receipt was made.
    pub issued_at: DateTime<Utc>,
    /// The sender's e-mail address, when given.
    pub sender_email: Option<String>,
    /// The subject the sender gave.
    pub subject: Option<String>,
    /// The random access code for the status lookup, printed on the receipt.
    pub access_code: Option<String>,
    /// Where the status can be looked up.
    pub status_url: Option<String>,
    /// The department's name, when already known.
    pub department: Option<String>,
    /// The documents, in the order of the submission.
    pub documents: Vec<ReceiptDocument>,
}

/// One document of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptDocument {
    /// The file name as given by the sender.
    pub name: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// The verification verdict in plain Polish.
    pub verdict: String,
}

/// Why a receipt could not be sealed, or the seal not loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Only one of `seal_key` and `seal_cert` is set.
    #[error("[receipt] needs both seal_key and seal_cert (or neither)")]
    HalfConfigured,
    /// A seal file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key or the certificates are unusable (not PEM, no certificate for the key).
    #[error("receipt seal {key} / {cert}: {source}")]
    BadSeal {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
        /// What the signer said.
        source: SignError,
    },
    /// Signing failed.
    #[error("sealing the receipt: {0}")]
    Sign(#[from] SignError),
}

/// The office's seal for receipts: the private key and its certificate (with its chain).
#[derive(Clone)]
pub struct Seal {
    key: SigningKey,
}

impl Seal {
    /// Loads the seal of `[receipt]`; `None` (and a log line saying receipts are unsigned) when
    /// neither file is configured.
    pub fn load(cfg: &crate::config::ReceiptConfig) -> Result<Option<Seal>, ReceiptError> {
        match (cfg.seal_key.is_empty(), cfg.seal_cert.is_empty()) {
            (true, true) => {
                tracing::warn!(
                    "[receipt] seal_key and seal_cert are empty: receipts are unsigned (PDF and unsigned XML only)"
                );
                Ok(None)
            }
            (false, false) => {
                let seal = Seal::from_files(Path::new(&cfg.seal_key), Path::new(&cfg.seal_cert))?;
                tracing::info!(seal = %seal.subject(), "receipts are sealed");
                Ok(Some(seal))
            }
            _ => Err(ReceiptError::HalfConfigured),
        }
    }

    /// Reads a PEM private key and a PEM file with its certificate (and, optionally, the chain).
    pub fn from_files(key: &Path, cert: &Path) -> Result<Seal, ReceiptError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| ReceiptError::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        let signing = SigningKey::from_pem(&read(key)?, &read(cert)?).map_err(|source| {
            ReceiptError::BadSeal {
                key: key.to_path_buf(),
                cert: cert.to_path_buf(),
                source,
            }
        })?;
        Ok(Seal { key: signing })
    }

    /// The seal certificate's subject, one line.
    pub fn subject(&self) -> String {
        self.key.subject()
    }
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key: only whose seal it is.
        f.debug_struct("Seal")
            .field("subject", &self.subject())
            .finish_non_exhaustive()
    }
}

/// `dd.mm.yyyy HH:MM:SS` in the office's time zone, with the zone's abbreviation and offset
/// (`14.03.2026 10:30:00 CET (UTC+01:00)`).
pub fn local_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz)
        .format("%d.%m.%Y %H:%M:%S %Z (UTC%:z)")
        .to_string()
}

/// The channel in words.
pub fn channel_name(channel: &str) -> &str {
    match channel {
        "upload" => "formularz na stronie internetowej urzędu",
        "api" => "interfejs API (system zewnętrzny)",
        "email" => "poczta elektroniczna",
        other => other,
    }
}

/// A size in bytes, grouped in threes, with the Polish plural of *bajt*.
pub fn size_text(size: i64) -> String {
    let digits = size.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    if size < 0 {
        grouped.insert(0, '-');
    }
    let n = size.unsigned_abs();
    let word = if n == 1 {
        "bajt"
    } else if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) {
        "bajty"
    } else {
        "bajtów"
    };
    format!("{grouped} {word}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A receipt with `n` documents, one of them with markup characters and Polish letters.
    pub fn sample(n: usize) -> Receipt {
        Receipt {
            office: "Urząd Miejski w Gliwicach".into(),
            registration_number: "RPW/1234/2026".into(),
            submission_id: "0193a7c2-5d1e-7f00-8a1b-2c3d4e5f6a7b".into(),
            channel: "upload".into(),
            received_at: Utc.with_ymd_and_hms(2026, 3, 14, 9, 30, 5).unwrap(),
            issued_at: Utc.with_ymd_and_hms(2026, 3, 14, 9, 30, 7).unwrap(),
            sender_email: Some("jan.kowalski@example.pl".into()),
            subject: Some("Wniosek o wydanie dowodu osobistego".into()),
            access_code: Some("K7QM-3XWD".into()),
            status_url: Some("https://podawcza.gliwice.eu/status".into()),
            department: Some("Wydział Spraw Obywatelskich".into()),
            documents: (0..n)
                .map(|i| ReceiptDocument {
                    name: if i == 0 {
                        "Wniosek <pilny> & \"zażółć gęślą jaźń\" ŻÓŁW.pdf".into()
                    } else {
                        format!("załącznik-{i}.pdf")
                    },
                    sha256: format!("{:064x}", i + 0xabc),
                    size: 1_234_567 + i as i64,
                    verdict:
                        "Podpis kwalifikowany — ważny. Podpisał: Jan Kowalski, 20.04.2020 10:11"
                            .into(),
                })
                .collect(),
        }
    }

    #[test]
    fn times_are_shown_in_the_office_zone_with_the_zone() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 22, 5, 9).unwrap();
        assert_eq!(
            local_time(t, chrono_tz::Europe::Warsaw),
            "02.07.2026 00:05:09 CEST (UTC+02:00)"
        );
    }

    #[test]
    fn sizes_use_the_polish_plural() {
        assert_eq!(size_text(1), "1 bajt");
        assert_eq!(size_text(3), "3 bajty");
        assert_eq!(size_text(12), "12 bajtów");
        assert_eq!(size_text(22), "22 bajty");
        assert_eq!(size_text(1_234_567), "1 234 567 bajtów");
        assert_eq!(size_text(100), "100 bajtów");
    }
}
