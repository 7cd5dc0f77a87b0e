//! Registering raw mail: store the bytes durably, then commit the row (DESIGN.md, invariant 1).
//!
//! Works for any mail channel: the IMAP poller, `.eml` files, Maildir. Only the header is read
//! here (never failing, whatever the body holds); taking the message apart is the pipeline's
//! `unpack` step, so a message nobody can parse is still registered and then quarantined.

use super::mime::{self, MailHeader};
use super::IngestError;
use crate::app::App;
use crate::model::{ArrivalSource, Channel};
use crate::storage::blobs::sha256_hex;
use crate::storage::register::{self, NewSubmission, Registered};
use chrono::{DateTime, Utc};

/// A raw message handed over by a channel.
#[derive(Debug, Clone)]
pub struct RawMail {
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// The arrival time the channel itself knows (IMAP INTERNALDATE, Maildir name), if any.
    pub channel_time: Option<(DateTime<Utc>, ArrivalSource)>,
    /// Where it came from (file path, IMAP coordinates).
    pub source: Option<String>,
}

/// Picks the authoritative arrival time: the channel's own time, else our server's topmost
/// `Received:` header, else the sender's `Date:`, else now.
pub fn arrival(
    raw: &RawMail,
    header: &MailHeader,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, ArrivalSource) {
    raw.channel_time
        .or_else(|| header.received.map(|t| (t, ArrivalSource::ReceivedHeader)))
        .or_else(|| header.date.map(|t| (t, ArrivalSource::DateHeader)))
        .unwrap_or((now, ArrivalSource::Gateway))
}

/// Stores a batch of raw messages and registers them in one transaction. Messages already
/// registered come back as [`Registered::Duplicate`]. Blobs are written (and fsynced) on a
/// blocking thread before the transaction starts.
pub async fn register_mails(
    app: &std::sync::Arc<App>,
    mails: Vec<RawMail>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Registered>, IngestError> {
    let news = store_mails(app, mails, actor, now).await?;
    let out = register::register_batch(
        &app.db,
        &app.config.register.number_pattern,
        app.config.timezone(),
        now,
        &news,
    )
    .await?;
    Ok(out)
}

/// The first half of [`register_mails`]: reads each message's header, hashes it and makes its
/// blob durable (one round of fsyncs for the batch), on a blocking thread. Returns the rows to
/// register, in order; the bytes are dropped. A channel that registers the rows in a transaction
/// of its own (the IMAP poller records its own rows in it) calls
/// [`register::register_batch_in`] with them.
pub async fn store_mails(
    app: &std::sync::Arc<App>,
    mails: Vec<RawMail>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<NewSubmission>, IngestError> {
    if mails.is_empty() {
        return Ok(Vec::new());
    }
    let app2 = app.clone();
    let actor = actor.to_string();
    tokio::task::spawn_blocking(move || -> Result<Vec<NewSubmission>, IngestError> {
        let news: Vec<NewSubmission> = mails
            .iter()
            .map(|m| {
                let mut n = prepare(m, now);
                n.actor.clone_from(&actor);
                n
            })
            .collect();
        let items: Vec<(&str, &[u8])> = news
            .iter()
            .zip(&mails)
            .map(|(n, m)| (n.raw_sha256.as_str(), m.bytes.as_slice()))
            .collect();
        app2.blobs.put_many(&items)?;
        Ok(news)
    })
    .await
    .map_err(|e| IngestError::Task(e.to_string()))?
}

fn prepare(m: &RawMail, now: DateTime<Utc>) -> NewSubmission {
    let sha = sha256_hex(&m.bytes);
    let header = mime::read_header(&m.bytes);
    let (received_at, source) = arrival(m, &header, now);
    let mut recipients = header.to.clone();
    recipients.extend(header.cc.iter().cloned());
    NewSubmission {
        channel: Channel::Email,
        received_at,
        arrival_source: source.as_str(),
        sender: header.from_address.clone(),
        sender_name: header.from_name.clone(),
        recipients,
        subject: header.subject.clone(),
        text: None,
        message_id: header.message_id.clone(),
        raw_sha256: sha,
        raw_size: i64::try_from(m.bytes.len()).unwrap_or(i64::MAX),
        deduplicate: true,
        source: m.source.clone(),
        actor: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn raw(channel_time: Option<(DateTime<Utc>, ArrivalSource)>) -> RawMail {
        RawMail {
            bytes: Vec::new(),
            channel_time,
            source: None,
        }
    }

    #[test]
    fn the_channels_own_time_wins_over_headers() {
        let t = |s| parse_time(s).unwrap();
        let header = MailHeader {
            received: Some(t("2020-04-20T10:00:00Z")),
            date: Some(t("2020-04-19T10:00:00Z")),
            ..Default::default()
        };
        let now = t("2026-01-01T00:00:00Z");
        let imap = Some((t("2020-04-20T10:00:05Z"), ArrivalSource::ImapInternaldate));
        assert_eq!(
            arrival(&raw(imap), &header, now).1,
            ArrivalSource::ImapInternaldate
        );
        assert_eq!(
            arrival(&raw(None), &header, now),
            (t("2020-04-20T10:00:00Z"), ArrivalSource::ReceivedHeader)
        );
        let only_date = MailHeader {
            date: header.date,
            ..Default::default()
        };
        assert_eq!(
            arrival(&raw(None), &only_date, now).1,
            ArrivalSource::DateHeader
        );
        assert_eq!(
            arrival(&raw(None), &MailHeader::default(), now),
            (now, ArrivalSource::Gateway)
        );
    }
}
