//! Delivery through the configured SMTP server with lettre: implicit TLS or STARTTLS (always
//! required, the certificate checked against the system's roots and the configured CA file),
//! AUTH when a user is configured, a timeout on the whole conversation.

use crate::config::{SmtpConfig, TlsMode};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// Errors of one delivery attempt.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The TLS set-up (CA file).
    #[error("smtp tls: {0}")]
    Tls(String),
    /// An address could not be used.
    #[error("smtp address {0:?}")]
    Address(String),
    /// The server refused or could not be reached.
    #[error("smtp: {0}")]
    Send(String),
}

/// A transport for the configured server.
pub fn transport(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpError> {
    let mut tls = TlsParameters::builder(cfg.host.clone());
    if !cfg.ca_file.is_empty() {
        let pem = std::fs::read(&cfg.ca_file)
            .map_err(|e| SmtpError::Tls(format!("{}: {e}", cfg.ca_file)))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| SmtpError::Tls(e.to_string()))?;
        tls = tls.add_root_certificate(cert);
    }
    let tls = tls
        .build_native()
        .map_err(|e| SmtpError::Tls(e.to_string()))?;
    let mode = match cfg.tls {
        TlsMode::Implicit => Tls::Wrapper(tls),
        TlsMode::Starttls => Tls::Required(tls),
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(mode)
        .timeout(Some(Duration::from_secs(cfg.timeout_secs.max(1))));
    if !cfg.user.is_empty() {
        b = b.credentials(Credentials::new(cfg.user.clone(), cfg.password.clone()));
    }
    Ok(b.build())
}

/// Sends the raw `message` from `from` to `to`.
pub async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &str,
    to: &str,
    message: &[u8],
    timeout_secs: u64,
) -> Result<(), SmtpError> {
    let from = bare_address(from)?;
    let to = bare_address(to)?;
    let envelope =
        Envelope::new(Some(from), vec![to]).map_err(|e| SmtpError::Address(e.to_string()))?;
    let fut = transport.send_raw(&envelope, message);
    match tokio::time::timeout(Duration::from_secs(timeout_secs.max(1) * 2), fut).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(SmtpError::Send(e.to_string())),
        Err(_) => Err(SmtpError::Send(format!(
            "no answer within {timeout_secs} s"
        ))),
    }
}

/// `Name <a@b>` or `a@b` to the address alone.
fn bare_address(s: &str) -> Result<Address, SmtpError> {
    let inner = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s.get(a + 1..b).unwrap_or(s),
        _ => s,
    };
    inner
        .trim()
        .parse()
        .map_err(|_| SmtpError::Address(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_stripped_from_envelope_addresses() {
        assert_eq!(
            bare_address("Skrzynka <podawcza@um.gliwice.pl>")
                .unwrap()
                .to_string(),
            "podawcza@um.gliwice.pl"
        );
        assert_eq!(bare_address("a@b.pl").unwrap().to_string(), "a@b.pl");
        assert!(bare_address("nie adres").is_err());
    }
}
