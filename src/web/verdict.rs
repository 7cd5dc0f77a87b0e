//! Verdicts in plain Polish for residents (the result page, the receipt, the e-mail): one line per
//! signature that a person without a lawyer understands, from the same report the inbox shows.

use crate::signature::report::{Report, SignatureReport};

/// A verdict line and its colour class (`passed`, `failed`, `indeterminate`, `plain`,
/// `unchecked`, as the stylesheet knows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Class for the badge and panel.
    pub class: &'static str,
    /// The sentence.
    pub text: String,
}

/// The verdict lines of a document: one per signature, or one saying there is none, or that the
/// check has not run yet (`report` is `None`).
pub fn lines(report: Option<&serde_json::Value>, tz: chrono_tz::Tz) -> Vec<Line> {
    let Some(value) = report else {
        return vec![Line {
            class: "unchecked",
            text: "Weryfikacja w toku.".into(),
        }];
    };
    let Ok(report) = serde_json::from_value::<Report>(value.clone()) else {
        return vec![Line {
            class: "unchecked",
            text: "Nie udało się odczytać wyniku weryfikacji.".into(),
        }];
    };
    if let Some(err) = &report.error {
        return vec![Line {
            class: "indeterminate",
            text: format!("Pliku nie udało się sprawdzić: {err}."),
        }];
    }
    if report.signatures.is_empty() {
        return vec![Line {
            class: "plain",
            text: "Brak podpisu.".into(),
        }];
    }
    report.signatures.iter().map(|s| line(s, tz)).collect()
}

/// The lines of a document joined into one sentence sequence (receipts, e-mail).
pub fn text(report: Option<&serde_json::Value>, tz: chrono_tz::Tz) -> String {
    lines(report, tz)
        .into_iter()
        .map(|l| l.text)
        .collect::<Vec<_>>()
        .join(" ")
}

fn kind_name(kind: &str) -> &'static str {
    match kind {
        "qes" => "Podpis kwalifikowany",
        "qualified_seal" => "Pieczęć kwalifikowana",
        "trusted_profile" => "Podpis zaufany",
        "personal" => "Podpis osobisty",
        "advanced" => "Podpis elektroniczny zaawansowany",
        _ => "Podpis elektroniczny",
    }
}

fn who(s: &SignatureReport) -> Option<String> {
    let signer = s.signer.as_ref()?;
    let joined = match (&signer.given_name, &signer.surname) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        _ => None,
    };
    signer
        .name
        .clone()
        .or(joined)
        .or_else(|| signer.organization.clone())
}

fn when(s: &SignatureReport, tz: chrono_tz::Tz) -> Option<String> {
    let t = s.signing_time.as_deref().or(s.timestamp_time.as_deref())?;
    let t = chrono::DateTime::parse_from_rfc3339(t).ok()?;
    Some(t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string())
}

fn line(s: &SignatureReport, tz: chrono_tz::Tz) -> Line {
    let sub = s.sub_indication.as_deref().unwrap_or("");
    match s.indication.as_deref() {
        Some("TOTAL_PASSED") => {
            let verb = if s.kind == "qualified_seal" {
                "Opieczętował"
            } else {
                "Podpisał"
            };
            let mut text = format!("{} — ważny.", kind_name(&s.kind));
            if s.kind == "qualified_seal" {
                text = format!("{} — ważna.", kind_name(&s.kind));
            }
            match (who(s), when(s, tz)) {
                (Some(n), Some(t)) => text.push_str(&format!(" {verb}: {n}, {t}")),
                (Some(n), None) => text.push_str(&format!(" {verb}: {n}")),
                (None, Some(t)) => text.push_str(&format!(" Złożony: {t}")),
                (None, None) => {}
            }
            Line {
                class: "passed",
                text,
            }
        }
        Some("TOTAL_FAILED") => Line {
            class: "failed",
            text: format!("Podpis niepoprawny: {}", failed_reason(sub)),
        },
        Some("INDETERMINATE") => Line {
            class: "indeterminate",
            text: format!(
                "Podpisu nie można potwierdzić: {}",
                lower_first(super::signature::reason(sub))
            ),
        },
        _ => Line {
            class: "unchecked",
            text: "Znaleziono podpis; weryfikacja w toku.".into(),
        },
    }
}

fn failed_reason(sub: &str) -> String {
    match sub {
        "HASH_FAILURE" => "dokument zmieniono po podpisaniu.".into(),
        "SIG_CRYPTO_FAILURE" => {
            "podpis nie pasuje do certyfikatu (sfałszowany lub uszkodzony).".into()
        }
        "REVOKED" => "certyfikat podpisującego unieważniono przed złożeniem podpisu.".into(),
        other => lower_first(super::signature::reason(other)),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn report(sig: serde_json::Value) -> serde_json::Value {
        let mut full = serde_json::to_value(SignatureReport::default()).unwrap();
        for (k, v) in sig.as_object().unwrap() {
            full[k] = v.clone();
        }
        full["checked"] = true.into();
        serde_json::json!({"file": "wniosek.pdf", "sha256": "00", "container": "pdf",
            "signatures": [full]})
    }

    #[test]
    fn a_valid_qualified_signature_names_the_signer_and_the_local_time() {
        let r = report(
            serde_json::json!({"id": "S1", "format": "PAdES", "intact": true,
            "indication": "TOTAL_PASSED", "kind": "qes",
            "signer": {"name": "Jan Kowalski"}, "signing_time": "2020-04-20T08:11:12Z"}),
        );
        let l = lines(Some(&r), chrono_tz::Europe::Warsaw);
        assert_eq!(
            l,
            vec![Line {
                class: "passed",
                text: "Podpis kwalifikowany — ważny. Podpisał: Jan Kowalski, 20.04.2020 10:11"
                    .into()
            }]
        );
    }

    #[test]
    fn a_changed_document_and_no_signature() {
        let r = report(
            serde_json::json!({"id": "S1", "format": "PAdES", "intact": false,
            "indication": "TOTAL_FAILED", "sub_indication": "HASH_FAILURE", "kind": "unknown"}),
        );
        assert_eq!(
            text(Some(&r), chrono_tz::Europe::Warsaw),
            "Podpis niepoprawny: dokument zmieniono po podpisaniu."
        );
        let plain = serde_json::json!({"file": "a.pdf", "sha256": "00", "container": "pdf",
            "signatures": []});
        assert_eq!(
            text(Some(&plain), chrono_tz::Europe::Warsaw),
            "Brak podpisu."
        );
        assert_eq!(lines(None, chrono_tz::Europe::Warsaw)[0].class, "unchecked");
    }
}
