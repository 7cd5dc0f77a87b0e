//! The header facts the register needs (sender, subject, dates, Message-ID), read from the header
//! block alone so that they are known even for a message whose body is garbage or cut off.

use super::MailHeader;
use chrono::{DateTime, Utc};
use mail_parser::{Address, MessageParser};

/// Most bytes looked at for the header block (RFC 5322 sets no limit; real ones are a few KB).
pub const MAX_HEADER_BYTES: usize = 256 * 1024;

/// The header block of `raw`: up to and including the first empty line, at most
/// [`MAX_HEADER_BYTES`].
pub fn header_block(raw: &[u8]) -> &[u8] {
    let capped = raw.get(..raw.len().min(MAX_HEADER_BYTES)).unwrap_or(raw);
    // The earlier end of the first `\r\n\r\n` and the first `\n\n` (memmem: a message with CRLF
    // lines is searched to its end for `\n\n`, byte by byte that was most of the time spent here).
    let end = [&b"\r\n\r\n"[..], b"\n\n"]
        .iter()
        .filter_map(|sep| memchr::memmem::find(capped, sep).map(|p| p + sep.len()))
        .min()
        .unwrap_or(capped.len());
    capped.get(..end).unwrap_or(capped)
}

/// Reads the header facts of a raw message. Never fails: a field that cannot be read is `None`.
pub fn read(raw: &[u8]) -> MailHeader {
    let block = header_block(raw);
    let Some(message) = MessageParser::new().parse_headers(block) else {
        return MailHeader::default();
    };
    let from = message.from().and_then(Address::first);
    let received = message
        .headers_raw()
        .find(|(name, _)| name.eq_ignore_ascii_case("Received"))
        .and_then(|(_, value)| received_date(value));
    MailHeader {
        message_id: message
            .message_id()
            .map(|id| id.trim().trim_matches(['<', '>']).to_string())
            .filter(|id| !id.is_empty()),
        from_address: from.and_then(|a| a.address.as_deref()).map(str::to_string),
        from_name: from
            .and_then(|a| a.name.as_deref())
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().map(str::to_string),
        date: message.date().and_then(|d| to_chrono(d.to_timestamp())),
        received,
        auto_submitted: message
            .header_raw("Auto-Submitted")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
    }
}

fn addresses(list: Option<&Address<'_>>) -> Vec<String> {
    list.map(|l| {
        l.iter()
            .filter_map(|a| a.address.as_deref())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// The date of a `Received` field: what follows its last `;` (RFC 5322 §3.6.7).
fn received_date(value: &str) -> Option<DateTime<Utc>> {
    let (_, date) = value.rsplit_once(';')?;
    let unfolded: String = date
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    mail_parser::DateTime::parse_rfc822(unfolded.trim())
        .filter(|d| d.is_valid())
        .and_then(|d| to_chrono(d.to_timestamp()))
}

fn to_chrono(timestamp: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(timestamp, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] =
        b"Received: from mx.gliwice.eu by skrzynka; Tue, 21 Apr 2020 10:00:05 +0200\r\n\
Received: from client by mx.example.pl;\r\n\tTue, 21 Apr 2020 09:59:00 +0200\r\n\
Message-ID: <abc@example.pl>\r\n\
From: =?iso-8859-2?Q?Jan_Kowalski_=B3?= <jan@example.pl>\r\n\
To: bp@gliwice.eu, Sekretariat <sek@gliwice.eu>\r\n\
Cc: kopia@example.pl\r\n\
Subject: =?windows-1250?Q?Wniosek_o_dow=F3d?=\r\n\
Date: Tue, 21 Apr 2020 09:58:00 +0200\r\n\
Auto-Submitted: auto-replied\r\n\
\r\n\
\x00\xff garbage body";

    #[test]
    fn reads_every_field_of_a_message_with_a_garbage_body() {
        let h = read(MAIL);
        assert_eq!(h.message_id.as_deref(), Some("abc@example.pl"));
        assert_eq!(h.from_address.as_deref(), Some("jan@example.pl"));
        assert_eq!(h.from_name.as_deref(), Some("Jan Kowalski ł"));
        assert_eq!(h.to, vec!["bp@gliwice.eu", "sek@gliwice.eu"]);
        assert_eq!(h.cc, vec!["kopia@example.pl"]);
        assert_eq!(h.subject.as_deref(), Some("Wniosek o dowód"));
        assert_eq!(
            h.date.map(|d| d.to_rfc3339()).as_deref(),
            Some("2020-04-21T07:58:00+00:00")
        );
        assert_eq!(h.auto_submitted.as_deref(), Some("auto-replied"));
    }

    #[test]
    fn takes_the_date_of_the_topmost_received_field() {
        let h = read(MAIL);
        assert_eq!(
            h.received.map(|d| d.to_rfc3339()).as_deref(),
            Some("2020-04-21T08:00:05+00:00")
        );
    }

    #[test]
    fn gives_an_empty_header_for_garbage() {
        assert_eq!(read(b"\x00\x01\x02\xff"), MailHeader::default());
        assert_eq!(read(b""), MailHeader::default());
    }

    #[test]
    fn cuts_the_header_block_at_the_first_empty_line() {
        assert_eq!(
            header_block(b"A: b\r\n\r\nSubject: no\r\n"),
            b"A: b\r\n\r\n"
        );
        assert_eq!(header_block(b"A: b\n\nx"), b"A: b\n\n");
    }

    #[test]
    fn caps_an_endless_header_block() {
        let raw = vec![b'a'; MAX_HEADER_BYTES * 2];
        assert_eq!(header_block(&raw).len(), MAX_HEADER_BYTES);
    }
}
