//! Records of the public side: receipts (with the hashed access code for the status lookup) and
//! the API tokens of other systems.

use super::db::{self, Db, DbError};
use crate::model::{format_time, SubmissionId};
use chrono::{DateTime, Utc};

/// Letters of access codes and tokens: Crockford's base32 (no I, L, O, U: nothing to misread
/// when copied from paper).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new random access code: 16 characters (80 bits) in groups of four, `7KQ2-…`.
pub fn new_access_code() -> String {
    let mut bytes = [0u8; 16];
    // openssl's CSPRNG; a failure here is a broken system, fall back to the session token source.
    if openssl::rand::rand_bytes(&mut bytes).is_err() {
        let t = super::accounts::random_token();
        bytes.iter_mut().zip(t.bytes()).for_each(|(b, c)| *b = c);
    }
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// An access code as typed (any case, with or without dashes or spaces, O for 0 and I/L for 1)
/// reduced to its canonical form, whose SHA-256 is stored.
pub fn normalize_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

fn code_hash(code: &str) -> String {
    super::blobs::sha256_hex(normalize_code(code).as_bytes())
}

/// A receipt: its access code is recorded with the registration, the documents once made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRow {
    /// The submission.
    pub submission_id: String,
    /// What was issued, once it was.
    pub issued: Option<Issued>,
}

/// A receipt as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// When it was made.
    pub issued_at: String,
    /// Blob of the (sealed) XML.
    pub xml_sha256: String,
    /// Blob of the PDF.
    pub pdf_sha256: String,
    /// Whether the XML carries the office's seal.
    pub sealed: bool,
}

/// The SHA-256 stored for an access code (pass it to registration).
pub fn access_code_sha256(code: &str) -> String {
    code_hash(code)
}

/// A receipt's two documents as made.
#[derive(Debug, Clone)]
pub struct Documents {
    /// The (sealed) XML.
    pub xml: Vec<u8>,
    /// The PDF.
    pub pdf: Vec<u8>,
    /// Whether the XML carries the office's seal.
    pub sealed: bool,
}

/// Records the receipt made for `id` (once: when one was recorded already, the first stays).
/// Returns whether this call recorded it.
pub async fn set_receipt(
    db: &Db,
    id: &SubmissionId,
    issued_at: DateTime<Utc>,
    made: &Documents,
) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let done = set_receipt_in(&mut tx, id, issued_at, made).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`set_receipt`] inside a caller's transaction.
pub async fn set_receipt_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &SubmissionId,
    issued_at: DateTime<Utc>,
    made: &Documents,
) -> Result<bool, DbError> {
    let [(issue, args), (event, event_args)] = issue_statements(id, issued_at, made);
    let done = super::db::execute_in(tx, issue, &args).await? == 1;
    if done {
        super::db::execute_in(tx, event, &event_args).await?;
    }
    Ok(done)
}

/// The statements that record a receipt with its documents (once: a receipt issued already
/// stays as it was) and its audit event (only when this receipt was recorded), for a
/// [`super::db::Script`]. The documents are kept in the row: a few KB written with it, not two
/// files with their renames and fsyncs.
pub fn issue_statements(
    id: &SubmissionId,
    issued_at: DateTime<Utc>,
    made: &Documents,
) -> [(&'static str, Vec<super::db::Arg>); 2] {
    let at = format_time(&issued_at);
    let xml_sha256 = super::blobs::sha256_hex(&made.xml);
    let pdf_sha256 = super::blobs::sha256_hex(&made.pdf);
    let detail = serde_json::json!({
        "xml_sha256": xml_sha256, "pdf_sha256": pdf_sha256, "sealed": made.sealed
    });
    [
        (
            "UPDATE receipts SET issued_at = $2, xml_sha256 = $3, pdf_sha256 = $4, sealed = $5,
                 xml = $6, pdf = $7
             WHERE submission_id = $1 AND issued_at IS NULL",
            vec![
                id.0.as_str().into(),
                at.as_str().into(),
                xml_sha256.as_str().into(),
                pdf_sha256.into(),
                i64::from(made.sealed).into(),
                made.xml.clone().into(),
                made.pdf.clone().into(),
            ],
        ),
        (
            "INSERT INTO audit_events (id, submission_id, at, actor, action, detail, reason)
             SELECT $1, $2, $3, 'system:web', 'receipt_issued', $4, NULL
             WHERE EXISTS (SELECT 1 FROM receipts
                           WHERE submission_id = $2 AND issued_at = $3 AND xml_sha256 = $5)",
            vec![
                uuid::Uuid::now_v7().to_string().into(),
                id.0.as_str().into(),
                at.into(),
                detail.to_string().into(),
                xml_sha256.into(),
            ],
        ),
    ]
}

/// Why a receipt's document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptDocumentError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The blob store (receipts made before the documents were kept in the row), or bytes that
    /// no longer hash to what was recorded.
    #[error(transparent)]
    Blob(#[from] super::blobs::BlobError),
}

/// A receipt's PDF (`pdf`) or XML as issued: from its row, else (a receipt made before the
/// documents were kept there) from the blob store; either way checked against the SHA-256
/// recorded when it was issued.
pub async fn receipt_document(
    db: &Db,
    blobs: &super::blobs::BlobStore,
    id: &str,
    issued: &Issued,
    pdf: bool,
) -> Result<Vec<u8>, ReceiptDocumentError> {
    let (sql, key) = if pdf {
        (
            "SELECT pdf AS doc FROM receipts WHERE submission_id = $1",
            &issued.pdf_sha256,
        )
    } else {
        (
            "SELECT xml AS doc FROM receipts WHERE submission_id = $1",
            &issued.xml_sha256,
        )
    };
    let kept: Option<Option<Vec<u8>>> = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .map_err(DbError::from)?;
    match kept.flatten() {
        Some(bytes) => {
            let actual = super::blobs::sha256_hex(&bytes);
            if actual != *key {
                return Err(super::blobs::BlobError::Corrupt {
                    key: key.clone(),
                    actual,
                }
                .into());
            }
            Ok(bytes)
        }
        None => Ok(blobs.get_verified(key)?),
    }
}

fn receipt_row(row: &sqlx::any::AnyRow) -> Result<ReceiptRow, DbError> {
    let issued = match db::opt_text(row, "issued_at")? {
        Some(issued_at) => Some(Issued {
            issued_at,
            xml_sha256: db::opt_text(row, "xml_sha256")?.unwrap_or_default(),
            pdf_sha256: db::opt_text(row, "pdf_sha256")?.unwrap_or_default(),
            sealed: db::opt_int(row, "sealed")?.unwrap_or(0) != 0,
        }),
        None => None,
    };
    Ok(ReceiptRow {
        submission_id: db::text(row, "submission_id")?,
        issued,
    })
}

/// The receipt of `id`, when the access code is its own (compared as hashes).
pub async fn receipt_with_code(
    db: &Db,
    id: &str,
    code: &str,
) -> Result<Option<ReceiptRow>, DbError> {
    let row = sqlx::query(
        "SELECT submission_id, issued_at, xml_sha256, pdf_sha256, sealed FROM receipts
         WHERE submission_id = $1 AND access_code_sha256 = $2",
    )
    .bind(id)
    .bind(code_hash(code))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(receipt_row).transpose()
}

/// The receipt of `id` (for the API, whose token was checked already).
pub async fn receipt(db: &Db, id: &str) -> Result<Option<ReceiptRow>, DbError> {
    let row = sqlx::query(
        "SELECT submission_id, issued_at, xml_sha256, pdf_sha256, sealed FROM receipts
         WHERE submission_id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(receipt_row).transpose()
}

/// The submission registered under `number` whose receipt has this access code: its id.
pub async fn lookup(db: &Db, number: &str, code: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query(
        "SELECT s.id FROM submissions s JOIN receipts r ON r.submission_id = s.id
         WHERE s.registration_number = $1 AND r.access_code_sha256 = $2",
    )
    .bind(number.trim())
    .bind(code_hash(code))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(|r| db::text(r, "id")).transpose()
}

/// An API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Identifier (recorded on the submissions it makes).
    pub id: String,
    /// Name of the system using it.
    pub name: String,
    /// When it was made.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

/// Makes a token for the system `name`; returns its record and the token itself (shown once; only
/// its SHA-256 is kept).
pub async fn add_token(
    db: &Db,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(ApiToken, String), DbError> {
    let secret = format!("pdw_{}", super::accounts::random_token());
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO api_tokens (id, name, token_sha256, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(super::blobs::sha256_hex(secret.as_bytes()))
    .bind(format_time(&now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((
        ApiToken {
            id,
            name: name.to_string(),
            created_at: format_time(&now),
            revoked_at: None,
        },
        secret,
    ))
}

/// The live token whose secret is `secret`.
pub async fn find_token(db: &Db, secret: &str) -> Result<Option<ApiToken>, DbError> {
    let row = sqlx::query(
        "SELECT id, name, created_at, revoked_at FROM api_tokens
         WHERE token_sha256 = $1 AND revoked_at IS NULL",
    )
    .bind(super::blobs::sha256_hex(secret.trim().as_bytes()))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(token_row).transpose()
}

fn token_row(row: &sqlx::any::AnyRow) -> Result<ApiToken, DbError> {
    Ok(ApiToken {
        id: db::text(row, "id")?,
        name: db::text(row, "name")?,
        created_at: db::text(row, "created_at")?,
        revoked_at: db::opt_text(row, "revoked_at")?,
    })
}

/// Every token, oldest first.
pub async fn list_tokens(db: &Db) -> Result<Vec<ApiToken>, DbError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, revoked_at FROM api_tokens ORDER BY created_at, name",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(token_row).collect()
}

/// Revokes the token named `name`; returns whether one was live.
pub async fn revoke_token(db: &Db, name: &str, now: DateTime<Utc>) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let n =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(format_time(&now))
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    tx.commit().await?;
    Ok(n == 1)
}

/// Whether the submission `id` was made with the token `token_id`.
pub async fn submitted_with(db: &Db, id: &str, token_id: &str) -> Result<bool, DbError> {
    let row = sqlx::query("SELECT 1 AS one FROM submissions WHERE id = $1 AND api_token = $2")
        .bind(id)
        .bind(token_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_codes_read_back_from_paper() {
        let code = new_access_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        assert_eq!(
            code_hash(&code),
            code_hash(&code.to_lowercase().replace('-', " "))
        );
        assert_eq!(normalize_code("o1l-i"), "0111");
        assert_ne!(new_access_code(), new_access_code());
    }
}
