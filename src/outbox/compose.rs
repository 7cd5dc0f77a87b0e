//! Composing outgoing mail: the acknowledgement to the sender (in Polish: registration number,
//! arrival time in the office's time zone, each document with its SHA-256 and what was found about
//! its signatures, the configured notice about legally effective channels) and the notification
//! to a department; and the loop protection that decides not to answer at all (RFC 3834 §2).

use crate::app::App;
use crate::model::{Document, Submission};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};

/// Why a message is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compose {
    /// The complete RFC 5322 message, ready to send.
    Send(String),
    /// Not sent, and why (recorded on the row).
    Suppress(String),
}

/// Errors composing a message (the address or the builder refused a value).
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// An address could not be parsed.
    #[error("invalid address {0:?}")]
    Address(String),
    /// The message builder refused.
    #[error("message: {0}")]
    Build(String),
}

/// The decision of RFC 3834 §2 and common practice: never answer automatic mail, bounces,
/// mailing lists or bulk mail. `header` is the raw header of the submission's original message.
pub fn loop_reason(sender: &str, header: &[u8]) -> Option<String> {
    let local = sender.split('@').next().unwrap_or("").to_ascii_lowercase();
    if matches!(
        local.as_str(),
        "mailer-daemon" | "postmaster" | "noreply" | "no-reply" | "do-not-reply"
    ) {
        return Some(format!("sender {local} is automatic"));
    }
    let fields = header_fields(header);
    for (name, value) in &fields {
        let v = value.trim().to_ascii_lowercase();
        let first = v.split(';').next().unwrap_or("").trim().to_string();
        match name.as_str() {
            "auto-submitted" if first != "no" => {
                return Some(format!("Auto-Submitted: {first}"));
            }
            "precedence" if matches!(first.as_str(), "bulk" | "list" | "junk") => {
                return Some(format!("Precedence: {first}"));
            }
            "list-id" => return Some("List-Id present".to_string()),
            "return-path" if v == "<>" => return Some("empty Return-Path (a bounce)".to_string()),
            _ => {}
        }
    }
    None
}

/// The header fields of a raw message, names lowercased, folded lines joined (RFC 5322 §2.2.3).
pub fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

fn auto_submitted(value: &str) -> HeaderValue {
    HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        value.to_string(),
    )
}

fn mailbox(s: &str) -> Result<Mailbox, ComposeError> {
    s.parse().map_err(|_| ComposeError::Address(s.to_string()))
}

/// The acknowledgement to the sender of `s`.
pub fn acknowledgement(
    app: &App,
    outbox_id: &str,
    s: &Submission,
    docs: &[Document],
) -> Result<String, ComposeError> {
    let to = s.sender.as_deref().unwrap_or_default();
    let mut b = Message::builder()
        .from(mailbox(&app.config.smtp.from)?)
        .to(mailbox(to)?)
        .subject(format!(
            "Potwierdzenie wpływu {}{}",
            s.registration_number,
            s.subject
                .as_deref()
                .map(|x| format!(": {}", clip(x, 120)))
                .unwrap_or_default()
        ))
        .message_id(Some(format!("<{outbox_id}@podawcza.invalid>")))
        .date(std::time::SystemTime::from(crate::clock::now()))
        .raw_header(auto_submitted("auto-replied"));
    if let Some(mid) = s.message_id.as_deref().filter(|m| is_msg_id(m)) {
        let mid = bracket(mid);
        b = b.in_reply_to(mid.clone()).references(mid);
    }
    let m = b
        .body(ack_text(app, s, docs))
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(String::from_utf8_lossy(&m.formatted()).into_owned())
}

/// The notification to the department `s` was dispatched to.
pub fn notification(
    app: &App,
    outbox_id: &str,
    to: &str,
    s: &Submission,
    docs: &[Document],
) -> Result<String, ComposeError> {
    let dept = s.department.as_deref().unwrap_or("");
    let name = crate::dispatch::department_name(&app.config.routing, dept);
    let tz = app.config.timezone();
    let mut text = format!(
        "Do wydziału {name} ({dept}) skierowano nową przesyłkę.\n\n\
         Numer w rejestrze: {}\nData i godzina wpływu: {}\nKanał: {}\nNadawca: {}\nTemat: {}\n\
         Dokumenty: {}\nPodpisane: {}\n",
        s.registration_number,
        s.received_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %Z"),
        s.channel.as_str(),
        s.sender.as_deref().unwrap_or("-"),
        clip(s.subject.as_deref().unwrap_or("(bez tematu)"), 200),
        docs.len(),
        if s.signed == Some(true) { "tak" } else { "nie" },
    );
    text.push_str("\nSzczegóły w skrzynce wydziału w Podawczej.\n");
    let m = Message::builder()
        .from(mailbox(&app.config.smtp.from)?)
        .to(mailbox(to)?)
        .subject(format!(
            "Nowa przesyłka {} dla {dept}",
            s.registration_number
        ))
        .message_id(Some(format!("<{outbox_id}@podawcza.invalid>")))
        .date(std::time::SystemTime::from(crate::clock::now()))
        .raw_header(auto_submitted("auto-generated"))
        .body(text)
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(String::from_utf8_lossy(&m.formatted()).into_owned())
}

/// The receipt of an upload or API submission, to the address its sender gave: the same text as
/// the acknowledgement, with the printable PDF and the sealed XML attached.
pub fn receipt(
    app: &App,
    outbox_id: &str,
    s: &Submission,
    docs: &[Document],
    pdf: Vec<u8>,
    xml: Vec<u8>,
) -> Result<String, ComposeError> {
    use lettre::message::{header::ContentType, Attachment, MultiPart, SinglePart};
    let to = s.sender.as_deref().unwrap_or_default();
    let number = s.registration_number.replace('/', "-");
    let kind = |t: &str| ContentType::parse(t).map_err(|e| ComposeError::Build(e.to_string()));
    let body = MultiPart::mixed()
        .singlepart(SinglePart::plain(ack_text(app, s, docs)))
        .singlepart(
            Attachment::new(format!("UPP-{number}.pdf")).body(pdf, kind("application/pdf")?),
        )
        .singlepart(
            Attachment::new(format!("UPP-{number}.xml")).body(xml, kind("application/xml")?),
        );
    let m = Message::builder()
        .from(mailbox(&app.config.smtp.from)?)
        .to(mailbox(to)?)
        .subject(format!(
            "Poświadczenie przedłożenia {}{}",
            s.registration_number,
            s.subject
                .as_deref()
                .map(|x| format!(": {}", clip(x, 120)))
                .unwrap_or_default()
        ))
        .message_id(Some(format!("<{outbox_id}@podawcza.invalid>")))
        .date(std::time::SystemTime::from(crate::clock::now()))
        .raw_header(auto_submitted("auto-replied"))
        .multipart(body)
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(String::from_utf8_lossy(&m.formatted()).into_owned())
}

fn ack_text(app: &App, s: &Submission, docs: &[Document]) -> String {
    let tz = app.config.timezone();
    let mut t = format!(
        "Szanowni Państwo,\n\n{} potwierdza wpływ przesyłki elektronicznej.\n\n\
         Numer w rejestrze przesyłek wpływających: {}\n\
         Data i godzina wpływu: {} (strefa czasowa {})\n\
         Temat: {}\n\n",
        app.config.office.name,
        s.registration_number,
        s.received_at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S"),
        tz.name(),
        clip(s.subject.as_deref().unwrap_or("(bez tematu)"), 200),
    );
    if docs.is_empty() {
        t.push_str("Przesyłka nie zawierała załączników.\n");
    } else {
        t.push_str("Dokumenty:\n");
        for d in docs {
            t.push_str(&format!(
                "{}. {} ({} B)\n   SHA-256: {}\n   Podpis: {}\n",
                d.seq,
                clip(&d.name, 120),
                d.size,
                d.sha256,
                signature_summary(d.report.as_ref())
            ));
        }
    }
    if !app.config.outbox.email_notice.is_empty() {
        t.push_str(&format!("\n{}\n", app.config.outbox.email_notice));
    }
    t.push_str("\nWiadomość wysłana automatycznie; prosimy na nią nie odpowiadać.\n");
    t
}

/// What was found about a document's signatures, in Polish, one line.
pub fn signature_summary(report: Option<&serde_json::Value>) -> String {
    let Some(report) = report else {
        return "nie sprawdzono".to_string();
    };
    let sigs = report["signatures"].as_array().cloned().unwrap_or_default();
    if sigs.is_empty() {
        return "brak podpisu".to_string();
    }
    let parts: Vec<String> = sigs
        .iter()
        .map(|sig| {
            let kind = match sig["kind"].as_str().unwrap_or("unknown") {
                "qes" => "kwalifikowany podpis elektroniczny",
                "qualified_seal" => "kwalifikowana pieczęć elektroniczna",
                "trusted_profile" => "podpis zaufany",
                "personal" => "podpis osobisty",
                "advanced" => "zaawansowany podpis elektroniczny",
                _ => "podpis elektroniczny",
            };
            let verdict = match sig["indication"].as_str() {
                Some("TOTAL_PASSED") => "zweryfikowany pozytywnie",
                Some("TOTAL_FAILED") => "nieważny",
                Some("INDETERMINATE") => "weryfikacja nierozstrzygnięta",
                _ => "nie zweryfikowano",
            };
            let who = sig["signer"]["name"]
                .as_str()
                .map(|n| format!(", {}", clip(n, 80)))
                .unwrap_or_default();
            format!("{kind}{who}: {verdict}")
        })
        .collect();
    parts.join("; ")
}

fn is_msg_id(m: &str) -> bool {
    let m = m.trim();
    !m.is_empty() && m.len() < 500 && m.is_ascii() && !m.contains(['\r', '\n', ' '])
}

fn bracket(m: &str) -> String {
    let m = m.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{m}>")
}

fn clip(s: &str, n: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= n {
        clean
    } else {
        clean.chars().take(n).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_and_list_mail_gets_no_answer() {
        let h = |s: &str| loop_reason("jan@example.pl", s.as_bytes());
        assert!(h("Auto-Submitted: auto-replied\r\n\r\n").is_some());
        assert!(h("Auto-Submitted: no\r\nSubject: x\r\n\r\n").is_none());
        assert!(h("Precedence: bulk\r\n\r\n").is_some());
        assert!(h("List-Id: <lista.example.pl>\r\n\r\n").is_some());
        assert!(h("Return-Path: <>\r\n\r\n").is_some());
        assert!(h("Subject: x\r\n\r\nAuto-Submitted: auto-replied\r\n").is_none());
        assert!(loop_reason("MAILER-DAEMON@example.pl", b"\r\n").is_some());
        assert!(loop_reason("postmaster@example.pl", b"\r\n").is_some());
    }

    #[test]
    fn folded_header_lines_are_joined() {
        let f = header_fields(b"Subject: a\r\n b\r\nX: y\r\n\r\nbody: no\r\n");
        assert_eq!(
            f,
            vec![
                ("subject".to_string(), "a b".to_string()),
                ("x".to_string(), "y".to_string())
            ]
        );
    }

    #[test]
    fn signature_summaries_name_the_kind_the_signer_and_the_verdict() {
        let r = serde_json::json!({"signatures": [{"kind": "qes", "indication": "TOTAL_PASSED",
            "signer": {"name": "Jan Kowalski"}}]});
        assert_eq!(
            signature_summary(Some(&r)),
            "kwalifikowany podpis elektroniczny, Jan Kowalski: zweryfikowany pozytywnie"
        );
        assert_eq!(
            signature_summary(Some(&serde_json::json!({"signatures": []}))),
            "brak podpisu"
        );
    }
}
