//! PDF signatures → [`Evidence`] → report (EN 319 142-1; ISO 32000-1 §12.8): for each
//! signature dictionary, check the ByteRange coverage (§5.3 / ISO 32000-1 §12.8.1: `[0 a b c]`,
//! the hole exactly `/Contents`, `b + c` the end of a revision), verify the CMS over the two
//! ranges (`ETSI.CAdES.detached`, `adbe.pkcs7.detached`) or its encapsulated SHA-1
//! (`adbe.pkcs7.sha1`), check document time-stamps (`ETSI.RFC3161`, §5.4), then what later
//! revisions changed ([`changes`]).

use super::changes;
use super::coverage::{self, Coverage};
use super::lexer::{Lexer, Value};
use super::objects::{self, find, Document};
use super::sigdict::{self, SigDict};
use crate::signature::cms::evidence::{Evidence, Failure, Scope, TimeStamp};
use crate::signature::cms::{algorithms, certs, oids, parse, report, timestamp, verify};
use crate::signature::report::Report;
use openssl::hash::MessageDigest;

/// Largest PDF verified, in bytes.
pub const MAX_PDF_BYTES: usize = 200 * 1024 * 1024;

/// Verifies every signature and document time-stamp of a PDF. Never fails: an unreadable or
/// oversized file is a report with `error` set.
pub fn verify_pdf(name: &str, data: &[u8]) -> Report {
    verify_pdf_inner(name, data, None)
}

/// [`verify_pdf`] of a stored file: the report takes its known SHA-256 (lowercase hex, e.g. the
/// blob store's key; the file is not hashed a second time for it, only the signed ranges are),
/// and the ranges' digests start from the hash state kept at or before each signature's hole
/// when the caller has them (an upload hashed as it streamed in), so only the bytes after that
/// state are hashed.
pub fn verify_pdf_stored(name: &str, data: &[u8], known: crate::digest::Known<'_>) -> Report {
    verify_pdf_inner(name, data, Some(known))
}

fn verify_pdf_inner(name: &str, data: &[u8], known: Option<crate::digest::Known<'_>>) -> Report {
    let sha256 = known.map(|k| k.sha256);
    let mut out = Report {
        file: name.to_string(),
        container: "pdf".to_string(),
        ..Report::default()
    };
    if data.len() > MAX_PDF_BYTES {
        out.sha256 = sha256.map_or_else(|| certs::sha256_hex(data), str::to_string);
        out.error = Some(format!(
            "pdf too large: {} bytes, limit {MAX_PDF_BYTES}",
            data.len()
        ));
        return out;
    }
    let doc = objects::index(data);
    let eofs = doc.eofs.clone();
    if doc.truncated {
        out.warnings
            .push("too many objects: the change analysis is partial".into());
    }
    let encrypted = is_encrypted(data, &doc);
    if encrypted {
        out.warnings
            .push("encrypted PDF: /Reason, /Name and /M are encrypted and were not read".into());
    }
    let sigs = sigdict::find(&doc, encrypted);
    let docmdp = sigs.iter().find_map(|s| s.docmdp).unwrap_or(2);
    let mut ctx = Context {
        docmdp,
        name,
        data,
        doc: &doc,
        eofs: &eofs,
        prehashed: Vec::new(),
    };
    let (computed, prehashed) = ctx.digests(&sigs, known);
    ctx.prehashed = prehashed;
    out.sha256 = sha256.map(str::to_string).or(computed).unwrap_or_default();
    let stamps: Vec<(Option<usize>, TimeStamp)> = sigs
        .iter()
        .filter(|s| s.doc_timestamp)
        .map(|s| ctx.document_timestamp(s, &mut out.warnings))
        .collect();
    let dss = dss_revision(&doc);
    out.signatures = sigs
        .iter()
        .filter(|s| !s.doc_timestamp)
        .enumerate()
        .map(|(i, s)| {
            let mut ev = ctx.signature(s, i);
            ev.level = Some(level(&ev, ctx.revision(s), dss, &stamps).to_string());
            report::signature_report(&ev)
        })
        .collect();
    out
}

struct Context<'a> {
    /// DocMDP permission of the certification signature, 2 when none.
    docmdp: i64,
    name: &'a str,
    data: &'a [u8],
    doc: &'a Document,
    eofs: &'a [usize],
    /// The SHA-256 of signatures' byte ranges by (object number, offset), computed in the
    /// pass that hashed the file ([`Context::digests`]).
    prehashed: Prehashed,
}

/// Range digests by the signature dictionary's (object number, offset).
type Prehashed = Vec<((u32, usize), Vec<u8>)>;

/// A signature whose ranges [`Context::digests`] hashes: its key, the length of its first
/// range (a prefix of the file) and its other ranges.
type Wanted<'a> = ((u32, usize), usize, Vec<&'a [u8]>);

impl Context<'_> {
    /// The SHA-256 of every signature's byte ranges, and the file's SHA-256 (lowercase hex)
    /// unless the caller gave it, in one pass: the first ranges `[0, a)` of the signatures
    /// are nested prefixes of the file, so one SHA-256 state runs over the file and is
    /// cloned at each hole `a`, and each clone goes on with its signature's short range after
    /// the hole. A PDF signed in its last revision is hashed about once instead of twice, a
    /// PDF signed a hundred times once instead of a hundred times. Only for signatures whose
    /// digest algorithm is SHA-256 and whose ByteRange is `[0 a b c]` inside the file; the
    /// others hash their ranges in the CMS check.
    fn digests(
        &self,
        sigs: &[SigDict],
        known: Option<crate::digest::Known<'_>>,
    ) -> (Option<String>, Prehashed) {
        let file = known.is_none();
        let mut wanted: Vec<Wanted<'_>> = sigs
            .iter()
            .filter(|s| !s.doc_timestamp && s.sub_filter != "adbe.pkcs7.sha1")
            .filter_map(|s| {
                let cov = coverage::check(self.data, self.doc, self.eofs, s);
                let first = *cov.ranges.first()?;
                let at_start = s.byte_range.first() == Some(&0);
                let sd = parse::content_info(&s.contents).ok()?;
                let sha256 = sd.content.is_none()
                    && sd
                        .signer_infos
                        .first()
                        .is_some_and(|si| si.digest_algorithm.oid == oids::SHA256);
                (at_start && sha256 && cov.ranges.len() == 2).then(|| {
                    let rest = cov.ranges.iter().skip(1).copied().collect();
                    ((s.object, s.offset), first.len(), rest)
                })
            })
            .collect();
        wanted.sort_by_key(|(_, prefix, _)| *prefix);
        // A state the caller kept while the file streamed in saves hashing the prefix before it
        // (only when the whole file is not to be hashed here anyway).
        let kept = known
            .and_then(|k| k.prefixes)
            .filter(|p| !file && p.len() == self.data.len())
            .zip(wanted.first())
            .and_then(|(p, (_, prefix, _))| p.at_or_before(*prefix));
        let shared = (|| {
            let (mut at, mut state) = kept.unwrap_or_default();
            let mut out = Vec::with_capacity(wanted.len());
            for (key, prefix, rest) in &wanted {
                state.update(self.data.get(at..*prefix)?);
                at = *prefix;
                let mut ranges = state.clone();
                for r in rest {
                    ranges.update(r);
                }
                out.push((*key, ranges.finish().to_vec()));
            }
            let sha256 = if file {
                state.update(self.data.get(at..)?);
                Some(certs::hex(&state.finish()))
            } else {
                None
            };
            Some((sha256, out))
        })();
        match shared {
            Some((sha256, out)) => (
                sha256.or_else(|| file.then(|| certs::sha256_hex(self.data))),
                out,
            ),
            None => (file.then(|| certs::sha256_hex(self.data)), Vec::new()),
        }
    }

    fn revision(&self, sig: &SigDict) -> Option<usize> {
        coverage::check(self.data, self.doc, self.eofs, sig).revision
    }

    fn signature(&self, sig: &SigDict, index: usize) -> Evidence {
        let cov = coverage::check(self.data, self.doc, self.eofs, sig);
        let mut ev = self.cms(sig, &cov, index);
        for e in &cov.errors {
            ev.fail(Failure::Format, e.clone());
        }
        // Coverage first: it explains the digest mismatch that usually follows.
        ev.errors.rotate_right(cov.errors.len());
        ev.scope.push(Scope {
            name: match (cov.whole_file, cov.revision) {
                (true, _) | (_, None) => self.name.to_string(),
                (false, Some(r)) => format!("{} (revision {})", self.name, r + 1),
            },
            sha256: None,
            whole_file: cov.whole_file,
        });
        self.claims(sig, &mut ev);
        if let Some(rev) = cov.revision {
            let found = changes::after(
                self.doc,
                rev,
                sig.object,
                self.docmdp,
                sig.field_lock.as_ref(),
            );
            if !found.modifications.is_empty() {
                ev.modified_after_signing = true;
                for m in found.modifications {
                    ev.errors.push(format!("modified after signing: {m}"));
                }
            }
            ev.warnings.extend(found.notes);
        }
        ev
    }

    /// The CMS in `/Contents` over the covered ranges.
    fn cms(&self, sig: &SigDict, cov: &Coverage<'_>, index: usize) -> Evidence {
        let broken = |message: String| {
            let mut ev = Evidence {
                id: format!("S{}", index + 1),
                format: "PAdES".into(),
                ..Evidence::default()
            };
            ev.fail(Failure::Format, message);
            ev
        };
        let sd = match parse::content_info(&sig.contents) {
            Ok(sd) => sd,
            Err(e) => return broken(format!("/Contents: {e}")),
        };
        let ranges: Vec<&[u8]> = cov.ranges.clone();
        let sha1 = sig.sub_filter == "adbe.pkcs7.sha1";
        let content: Vec<&[u8]> = match sd.content.as_deref() {
            Some(c) => vec![c],
            None => ranges.clone(),
        };
        let prehashed = self
            .prehashed
            .iter()
            .find(|(key, _)| *key == (sig.object, sig.offset))
            .filter(|_| sd.content.is_none())
            .map(|(_, digest)| (oids::SHA256, digest.as_slice()));
        let mut list = verify::evidence_with(&sd, Some(&content), prehashed, "PAdES", index);
        if list.is_empty() {
            return broken("/Contents: SignedData without SignerInfo".into());
        }
        let extra = list.len() - 1;
        let mut ev = list.swap_remove(0);
        if extra > 0 {
            ev.warnings.push(format!(
                "{extra} more SignerInfo in the same CMS not reported"
            ));
        }
        match (sd.content.as_deref(), sha1) {
            (Some(c), true) => {
                let digest = algorithms::hash(MessageDigest::sha1(), &ranges);
                if digest.as_deref() != Some(c) {
                    ev.fail(
                        Failure::Hash,
                        "adbe.pkcs7.sha1: the signed digest is not the SHA-1 of the byte range",
                    );
                }
            }
            (None, true) => ev.fail(
                Failure::Format,
                "adbe.pkcs7.sha1 without encapsulated digest",
            ),
            (Some(_), false) => ev.fail(
                Failure::Format,
                format!(
                    "{}: the CMS encapsulates content instead of signing the byte range",
                    sig.sub_filter
                ),
            ),
            (None, false) => {}
        }
        if sig.sub_filter.starts_with("adbe.") {
            ev.warnings.push(format!(
                "legacy sub-filter {} (ISO 32000-1 §12.8.3.3), not PAdES baseline",
                sig.sub_filter
            ));
        }
        ev
    }

    /// `/M`, `/Reason`, `/Name`, `/Location`, and a podpis zaufany identity in `/Reason`.
    fn claims(&self, sig: &SigDict, ev: &mut Evidence) {
        if ev.signing_time.is_none() {
            ev.signing_time = sig.time.clone();
        }
        if let Some(reason) = &sig.reason {
            match sigdict::trusted_profile(reason) {
                Some(citizen) => {
                    ev.claimed_signer = Some(citizen);
                    ev.warnings
                        .push("podpis zaufany: the citizen is named in /Reason".into());
                }
                None => ev.warnings.push(format!("/Reason: {reason}")),
            }
        }
        if let Some(p) = sig.docmdp {
            ev.warnings.push(format!(
                "certification signature (DocMDP P={p}, ISO 32000-1 §12.8.2.2)"
            ));
        }
        if let Some(n) = &sig.name {
            ev.warnings.push(format!("/Name: {n}"));
        }
        if let Some(l) = &sig.location {
            ev.warnings.push(format!("/Location: {l}"));
        }
    }

    /// A document time-stamp (EN 319 142-1 §5.4): an RFC 3161 token over the byte range.
    fn document_timestamp(
        &self,
        sig: &SigDict,
        notes: &mut Vec<String>,
    ) -> (Option<usize>, TimeStamp) {
        let cov = coverage::check(self.data, self.doc, self.eofs, sig);
        let mut ts = timestamp::check("DocumentTimeStamp", &sig.contents, Some(&cov.ranges));
        if !cov.errors.is_empty() {
            ts.intact = false;
            ts.errors.extend(cov.errors.iter().cloned());
        }
        let whole = if ts.intact && ts.imprint_matches == Some(true) && cov.errors.is_empty() {
            "intact".to_string()
        } else {
            format!("not intact ({})", ts.errors.join("; "))
        };
        notes.push(format!(
            "document time-stamp at {} over revision {}: {whole}",
            ts.time.as_deref().unwrap_or("?"),
            cov.revision
                .map_or("?".to_string(), |r| (r + 1).to_string()),
        ));
        let good = ts.intact && ts.imprint_matches == Some(true);
        ts.intact = good;
        (cov.revision, ts)
    }
}

/// EN 319 142-1 §6: B-T by a signature time-stamp or a later document time-stamp; B-LT with
/// validation data (DSS or embedded revocation values) after it; B-LTA with a document
/// time-stamp after the DSS.
fn level(
    ev: &Evidence,
    rev: Option<usize>,
    dss: Option<usize>,
    stamps: &[(Option<usize>, TimeStamp)],
) -> &'static str {
    let rev = rev.unwrap_or(usize::MAX);
    let later_stamp = |after: usize| {
        stamps
            .iter()
            .any(|(r, t)| t.intact && r.is_some_and(|r| r > after) && r.is_some())
    };
    let t = ev
        .timestamps
        .iter()
        .any(|t| t.kind == "SignatureTimeStamp" && t.intact && t.imprint_matches == Some(true))
        || (rev != usize::MAX && later_stamp(rev));
    let lt = t && (ev.revocation_data || dss.is_some_and(|d| rev != usize::MAX && d > rev));
    let lta = lt && dss.is_some_and(later_stamp);
    match (t, lt, lta) {
        (true, true, true) => "B-LTA",
        (true, true, false) => "B-LT",
        (true, false, _) => "B-T",
        _ => "B-B",
    }
}

/// The first revision that holds a DSS (EN 319 142-1 §5.5: `/Type /DSS`, or `/DSS` in the catalog).
fn dss_revision(doc: &Document) -> Option<usize> {
    doc.objects
        .iter()
        .find(|o| {
            o.value.get("Type").is_some_and(|t| t.is_name("DSS"))
                || (o.value.get("Type").is_some_and(|t| t.is_name("Catalog"))
                    && o.value.get("DSS").is_some())
        })
        .map(|o| o.revision)
}

/// `/Encrypt` in a trailer or a cross-reference stream (ISO 32000-1 §7.6).
fn is_encrypted(data: &[u8], doc: &Document) -> bool {
    let in_xref_stream = doc.objects.iter().any(|o| {
        o.value.get("Type").is_some_and(|t| t.is_name("XRef")) && o.value.get("Encrypt").is_some()
    });
    let mut pos = 0;
    let mut trailers = 0;
    while let Some(at) = find(data, b"trailer", pos) {
        pos = at + 7;
        trailers += 1;
        if trailers > 10_000 {
            break;
        }
        let dict = Lexer::new(data, pos).value(0);
        if matches!(&dict, Ok(d @ Value::Dict(_)) if d.get("Encrypt").is_some()) {
            return true;
        }
    }
    in_xref_stream
}
