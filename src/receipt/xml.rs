//! The receipt as XML, namespace `urn:podawcza:upp:1` (prefix `upp`, element names in Polish
//! without diacritics), optionally sealed with an enveloped XAdES-B-B signature
//! ([`sealed_xml`]; the signature is the last child of the root, over the whole document).
//!
//! ```xml
//! <upp:PoswiadczeniePrzedlozenia xmlns:upp="urn:podawcza:upp:1" wersja="1">
//!   <upp:Urzad>Urząd Miejski w Gliwicach</upp:Urzad>            office's full name
//!   <upp:NumerRPW>RPW/12/2026</upp:NumerRPW>                   registration number
//!   <upp:IdentyfikatorZgloszenia>…</upp:IdentyfikatorZgloszenia>
//!   <upp:Kanal>upload</upp:Kanal>                              upload | api | email
//!   <upp:DataWplyniecia>2026-03-14T10:30:05+01:00</upp:DataWplyniecia>    arrival (local offset)
//!   <upp:DataSporzadzenia>2026-03-14T10:30:07+01:00</upp:DataSporzadzenia> receipt made
//!   <upp:StrefaCzasowa>Europe/Warsaw</upp:StrefaCzasowa>       the office's time zone
//!   <upp:AdresNadawcy>…</upp:AdresNadawcy>                     optional: sender's e-mail
//!   <upp:Tytul>…</upp:Tytul>                                   optional: the subject given
//!   <upp:Wydzial>…</upp:Wydzial>                               optional: department, if known
//!   <upp:KodDostepu>…</upp:KodDostepu>                         optional: status access code
//!   <upp:AdresStatusu>…</upp:AdresStatusu>                     optional: status lookup URL
//!   <upp:Dokumenty liczba="1">
//!     <upp:Dokument lp="1">
//!       <upp:Nazwa>wniosek.pdf</upp:Nazwa>
//!       <upp:SHA256>…64 hex digits…</upp:SHA256>
//!       <upp:Rozmiar>12345</upp:Rozmiar>                       bytes
//!       <upp:Weryfikacja>Brak podpisu</upp:Weryfikacja>         plain-Polish verdict
//!     </upp:Dokument>
//!   </upp:Dokumenty>
//! </upp:PoswiadczeniePrzedlozenia>
//! ```
//! Times are RFC 3339 to the second with the office zone's offset. Text is escaped (`&`, `<`,
//! `>`, carriage returns as `&#xD;`); characters XML 1.0 cannot carry become U+FFFD.

use super::{Receipt, ReceiptDocument, ReceiptError, Seal};
use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt::Write;

/// The namespace of the receipt document.
pub const NAMESPACE: &str = "urn:podawcza:upp:1";

/// The unsigned receipt XML (UTF-8, with declaration).
pub fn xml(r: &Receipt, tz: chrono_tz::Tz) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<upp:PoswiadczeniePrzedlozenia xmlns:upp=\"{NAMESPACE}\" wersja=\"1\">\n"
    );
    let time = |t: DateTime<Utc>| {
        t.with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    };
    element(&mut out, 1, "Urzad", &r.office);
    element(&mut out, 1, "NumerRPW", &r.registration_number);
    element(&mut out, 1, "IdentyfikatorZgloszenia", &r.submission_id);
    element(&mut out, 1, "Kanal", &r.channel);
    element(&mut out, 1, "DataWplyniecia", &time(r.received_at));
    element(&mut out, 1, "DataSporzadzenia", &time(r.issued_at));
    element(&mut out, 1, "StrefaCzasowa", tz.name());
    for (name, value) in [
        ("AdresNadawcy", &r.sender_email),
        ("Tytul", &r.subject),
        ("Wydzial", &r.department),
        ("KodDostepu", &r.access_code),
        ("AdresStatusu", &r.status_url),
    ] {
        if let Some(v) = value {
            element(&mut out, 1, name, v);
        }
    }
    let _ = writeln!(out, "  <upp:Dokumenty liczba=\"{}\">", r.documents.len());
    for (i, d) in r.documents.iter().enumerate() {
        let _ = writeln!(out, "    <upp:Dokument lp=\"{}\">", i + 1);
        element(&mut out, 3, "Nazwa", &d.name);
        element(&mut out, 3, "SHA256", &d.sha256);
        element(&mut out, 3, "Rozmiar", &d.size.to_string());
        element(&mut out, 3, "Weryfikacja", &d.verdict);
        out.push_str("    </upp:Dokument>\n");
    }
    out.push_str("  </upp:Dokumenty>\n</upp:PoswiadczeniePrzedlozenia>\n");
    out
}

/// The receipt XML sealed with the office's seal: an enveloped XAdES-B-B signature
/// (SigningCertificateV2, SigningTime = `issued_at`, exclusive C14N, SHA-256).
pub fn sealed_xml(r: &Receipt, tz: chrono_tz::Tz, seal: &Seal) -> Result<String, ReceiptError> {
    let time = r.issued_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    Ok(seal.key.sign_enveloped(&xml(r, tz), &time)?)
}

fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    let _ = writeln!(
        out,
        "{:indent$}<upp:{name}>{}</upp:{name}>",
        "",
        escape(text),
        indent = depth * 2
    );
}

/// Escapes text content; characters XML 1.0 forbids (§2.2) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Reads a receipt back from its XML, sealed or not (times in UTC); `None` when it is not one.
/// The signature is not checked here: that is the verifier's work.
pub fn read(text: &str) -> Option<Receipt> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(NAMESPACE)
        || root.tag_name().name() != "PoswiadczeniePrzedlozenia"
    {
        return None;
    }
    let child = |parent: roxmltree::Node, name: &str| {
        parent
            .children()
            .find(|n| n.tag_name().namespace() == Some(NAMESPACE) && n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or_default().to_string())
    };
    let time = |name: &str| {
        DateTime::parse_from_rfc3339(&child(root, name)?)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let documents = root
        .descendants()
        .filter(|n| {
            n.tag_name().namespace() == Some(NAMESPACE) && n.tag_name().name() == "Dokument"
        })
        .map(|d| {
            Some(ReceiptDocument {
                name: child(d, "Nazwa")?,
                sha256: child(d, "SHA256")?,
                size: child(d, "Rozmiar")?.parse().ok()?,
                verdict: child(d, "Weryfikacja")?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Receipt {
        office: child(root, "Urzad")?,
        registration_number: child(root, "NumerRPW")?,
        submission_id: child(root, "IdentyfikatorZgloszenia")?,
        channel: child(root, "Kanal")?,
        received_at: time("DataWplyniecia")?,
        issued_at: time("DataSporzadzenia")?,
        sender_email: child(root, "AdresNadawcy"),
        subject: child(root, "Tytul"),
        access_code: child(root, "KodDostepu"),
        status_url: child(root, "AdresStatusu"),
        department: child(root, "Wydzial"),
        documents,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::receipt::tests::sample;

    #[test]
    fn every_fact_round_trips_through_the_xml() {
        let mut r = sample(3);
        r.subject = Some("Sprawa <ważna> & \"pilna\"\r\nwiersz drugi\ttab".into());
        let text = xml(&r, chrono_tz::Europe::Warsaw);
        assert!(text.contains("<upp:DataWplyniecia>2026-03-14T10:30:05+01:00</upp:DataWplyniecia>"));
        assert!(text.contains("Wniosek &lt;pilny&gt; &amp; \"zażółć gęślą jaźń\" ŻÓŁW.pdf"));
        assert_eq!(read(&text), Some(r));
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced_not_written() {
        let mut r = sample(1);
        r.documents[0].name = "a\u{1}b\u{FFFF}.pdf".into();
        let back = read(&xml(&r, chrono_tz::Europe::Warsaw)).unwrap();
        assert_eq!(back.documents[0].name, "a\u{FFFD}b\u{FFFD}.pdf");
    }

    #[test]
    fn optional_facts_are_left_out_when_absent() {
        let mut r = sample(0);
        r.sender_email = None;
        r.access_code = None;
        r.status_url = None;
        r.department = None;
        r.subject = None;
        let text = xml(&r, chrono_tz::UTC);
        assert!(!text.contains("KodDostepu") && !text.contains("Wydzial"));
        assert_eq!(read(&text), Some(r));
    }
}
