//! The signature side of the inbox: a verdict per document and per submission (for the badge
//! that makes a failed or indeterminate signature impossible to miss), and the signature panel
//! with the reason in Polish. Works on the stored report JSON (DESIGN.md contract).

use super::html::h;
use crate::model::Document;
use crate::signature::report::{CertificateInfo, Report, SignatureReport};

/// The worst verdict among signatures, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// No signature at all.
    Plain,
    /// Every signature passed.
    Passed,
    /// A signature was found but not (yet) checked.
    Unchecked,
    /// Some signature is indeterminate.
    Indeterminate,
    /// Some signature failed.
    Failed,
}

impl Verdict {
    /// CSS class and Polish badge text.
    pub fn badge(self) -> String {
        let (class, text) = match self {
            Verdict::Plain => ("plain", "bez podpisu"),
            Verdict::Passed => ("passed", "podpis ważny"),
            Verdict::Unchecked => ("unchecked", "podpis niesprawdzony"),
            Verdict::Indeterminate => ("indeterminate", "⚠ PODPIS NIEROZSTRZYGNIĘTY"),
            Verdict::Failed => ("failed", "✖ PODPIS NIEWAŻNY"),
        };
        format!(r#"<span class="badge {class}" data-verdict="{class}">{text}</span>"#)
    }

    /// Whether the clerk must look closer.
    pub fn is_problem(self) -> bool {
        self >= Verdict::Indeterminate
    }
}

/// The report of a document, if stored and readable.
pub fn report(doc: &Document) -> Option<Report> {
    doc.report
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn verdict_of(sig: &SignatureReport) -> Verdict {
    verdict_from(sig.indication.as_deref(), sig.intact)
}

fn verdict_from(indication: Option<&str>, intact: Option<bool>) -> Verdict {
    match indication {
        Some("TOTAL_PASSED") => Verdict::Passed,
        Some("TOTAL_FAILED") => Verdict::Failed,
        Some("INDETERMINATE") => Verdict::Indeterminate,
        _ if intact == Some(false) => Verdict::Failed,
        _ => Verdict::Unchecked,
    }
}

/// The worst verdict over the documents, and the kinds of signatures found. Reads the three
/// fields it needs from each stored report as it is (a list page summarizes fifty rows: no copy
/// and no decoding of whole reports with their certificates).
pub fn summarize(docs: &[Document]) -> (Verdict, Vec<String>) {
    let mut worst = Verdict::Plain;
    let mut kinds: Vec<String> = Vec::new();
    let signatures = docs
        .iter()
        .filter_map(|d| d.report.as_ref()?.get("signatures")?.as_array())
        .flatten();
    for s in signatures {
        let indication = s.get("indication").and_then(serde_json::Value::as_str);
        let intact = s.get("intact").and_then(serde_json::Value::as_bool);
        worst = worst.max(verdict_from(indication, intact));
        let kind = s
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown");
        if !kinds.iter().any(|k| k == kind) {
            kinds.push(kind.to_string());
        }
    }
    (worst, kinds)
}

/// The Polish name of a signature kind.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "qes" => "podpis kwalifikowany",
        "qualified_seal" => "pieczęć kwalifikowana",
        "trusted_profile" => "podpis zaufany",
        "personal" => "podpis osobisty",
        "advanced" => "podpis zaawansowany",
        _ => "rodzaj nieustalony",
    }
}

fn indication_label(ind: Option<&str>) -> &'static str {
    match ind {
        Some("TOTAL_PASSED") => "ważny",
        Some("TOTAL_FAILED") => "NIEWAŻNY",
        Some("INDETERMINATE") => "NIEROZSTRZYGNIĘTY",
        _ => "niesprawdzony",
    }
}

/// The reason in Polish for an ETSI EN 319 102-1 sub-indication.
pub fn reason(sub: &str) -> &'static str {
    match sub {
        "FORMAT_FAILURE" => "Podpis ma nieprawidłową budowę (błąd formatu).",
        "HASH_FAILURE" => {
            "Podpisany dokument został zmieniony po złożeniu podpisu (skrót się nie zgadza)."
        }
        "SIG_CRYPTO_FAILURE" => "Wartość podpisu nie zgadza się z kluczem certyfikatu.",
        "REVOKED" => "Certyfikat podpisującego został unieważniony.",
        "REVOKED_NO_POE" | "REVOKED_CA_NO_POE" => {
            "Certyfikat unieważniono i nie ma dowodu, że podpis złożono wcześniej."
        }
        "SIG_CONSTRAINTS_FAILURE" => "Podpis nie spełnia wymagań polityki podpisu.",
        "CHAIN_CONSTRAINTS_FAILURE" => "Łańcuch certyfikatów nie spełnia wymagań polityki.",
        "CERTIFICATE_CHAIN_GENERAL_FAILURE" => "Łańcucha certyfikatów nie da się zweryfikować.",
        "CRYPTO_CONSTRAINTS_FAILURE" => "Użyto zbyt słabego algorytmu kryptograficznego.",
        "EXPIRED" => "Certyfikat podpisującego wygasł przed czasem podpisu.",
        "NOT_YET_VALID" => "Certyfikat podpisującego nie był jeszcze ważny w czasie podpisu.",
        "NO_SIGNING_CERTIFICATE_FOUND" => "Nie znaleziono certyfikatu podpisującego.",
        "NO_CERTIFICATE_CHAIN_FOUND" => {
            "Certyfikat nie prowadzi do zaufanego wystawcy (brak na liście zaufanych)."
        }
        "OUT_OF_BOUNDS_NO_POE" | "OUT_OF_BOUNDS_NOT_REVOKED" => {
            "Podpis złożono poza okresem ważności certyfikatu lub brak dowodu czasu."
        }
        "TRY_LATER" => "Brak aktualnych informacji o unieważnieniu; sprawdź ponownie później.",
        "SIGNED_DATA_NOT_FOUND" => {
            "Nie znaleziono podpisanych danych (np. brak pliku podpisu zewnętrznego)."
        }
        "NO_POE" => "Brak dowodu istnienia podpisu w wymaganym czasie.",
        _ => "Powód podano w szczegółach poniżej.",
    }
}

/// The signature panel of one document.
pub fn panel(doc: &Document) -> String {
    let Some(r) = report(doc) else {
        return r#"<p class="hint">Dokument nie został jeszcze zweryfikowany.</p>"#.to_string();
    };
    let mut out = String::new();
    if let Some(e) = &r.error {
        out.push_str(&format!(
            r#"<p class="message error">Nie udało się odczytać pliku: {}</p>"#,
            h(e)
        ));
    }
    if r.signatures.is_empty() {
        out.push_str(r#"<p class="hint">Brak podpisu elektronicznego w tym dokumencie.</p>"#);
    }
    for s in &r.signatures {
        out.push_str(&signature_panel(s));
    }
    out
}

fn row(label: &str, value: &str) -> String {
    format!("<dt>{label}</dt><dd>{value}</dd>")
}

fn signature_panel(s: &SignatureReport) -> String {
    let v = verdict_of(s);
    let class = match v {
        Verdict::Failed => "failed",
        Verdict::Indeterminate => "indeterminate",
        Verdict::Passed => "passed",
        _ => "",
    };
    let mut facts = String::new();
    facts.push_str(&row(
        "Wynik",
        &format!(
            "{} {}",
            v.badge(),
            h(indication_label(s.indication.as_deref()))
        ),
    ));
    if let Some(sub) = s.sub_indication.as_deref() {
        facts.push_str(&row(
            "Powód",
            &format!("{} <code>{}</code>", h(reason(sub)), h(sub)),
        ));
    }
    facts.push_str(&row("Rodzaj", h(kind_label(&s.kind)).as_str()));
    let level = s
        .level
        .as_deref()
        .map(|l| format!(" {l}"))
        .unwrap_or_default();
    facts.push_str(&row("Format", &h(&format!("{}{level}", s.format))));
    let integrity = match s.intact {
        Some(true) => "nienaruszony",
        Some(false) => "NARUSZONY",
        None => "nie sprawdzono",
    };
    facts.push_str(&row("Integralność", integrity));
    if let Some(signer) = &s.signer {
        let mut who: Vec<String> = Vec::new();
        for part in [
            &signer.name,
            &signer.organization,
            &signer.email,
            &signer.serial_number,
            &signer.epuap_account,
        ]
        .into_iter()
        .flatten()
        {
            who.push(h(part));
        }
        facts.push_str(&row("Podpisujący", &who.join("<br>")));
    }
    if let Some(t) = &s.signing_time {
        facts.push_str(&row("Czas podpisu (deklarowany)", &h(t)));
    }
    if let Some(t) = &s.timestamp_time {
        facts.push_str(&row("Znacznik czasu", &h(t)));
    }
    if let Some(c) = &s.certificate {
        let qualified = match c.qualified {
            Some(true) => "kwalifikowany",
            Some(false) => "niekwalifikowany",
            None => "status nieznany",
        };
        facts.push_str(&row(
            "Certyfikat",
            &format!(
                "{}<br>wystawca: {}<br>nr seryjny: <code>{}</code><br>ważny {} – {} ({qualified})<br>SHA-256: <span class=\"hash\">{}</span>",
                h(&c.subject),
                h(&c.issuer),
                h(&c.serial),
                h(&c.not_before),
                h(&c.not_after),
                h(&c.sha256)
            ),
        ));
    }
    if !s.chain.is_empty() {
        facts.push_str(&row("Ścieżka certyfikacji", &chain(&s.chain)));
    }
    for (label, list) in [("Błędy", &s.errors), ("Ostrzeżenia", &s.warnings)] {
        if !list.is_empty() {
            let items: String = list.iter().map(|e| format!("<li>{}</li>", h(e))).collect();
            facts.push_str(&row(label, &format!("<ul>{items}</ul>")));
        }
    }
    format!(
        r#"<div class="panel {class}"><h4>Podpis {}</h4><dl class="facts">{facts}</dl></div>"#,
        h(&s.id)
    )
}

/// The certification path, signing certificate first, trust anchor last.
fn chain(certs: &[CertificateInfo]) -> String {
    let last = certs.len().saturating_sub(1);
    let items: String = certs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let role = match i {
                0 => "certyfikat podpisującego",
                i if i == last => "kotwica zaufania",
                _ => "urząd pośredni",
            };
            format!(
                r#"<li><b>{}</b> <small>({role})</small><br>wystawca: {}<br>nr seryjny: <code>{}</code><br>ważny {} – {}<br>SHA-256: <span class="hash">{}</span></li>"#,
                h(&c.subject),
                h(&c.issuer),
                h(&c.serial),
                h(&c.not_before),
                h(&c.not_after),
                h(&c.sha256)
            )
        })
        .collect();
    format!(r#"<ol class="chain">{items}</ol>"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(report: serde_json::Value) -> Document {
        Document {
            id: "d".into(),
            submission_id: crate::model::SubmissionId("s".into()),
            seq: 1,
            name: "a.xml".into(),
            media_type: "application/xml".into(),
            declared_type: None,
            size: 1,
            sha256: "0".repeat(64),
            container: String::new(),
            role: "attachment".into(),
            report: Some(report),
        }
    }

    fn sig(indication: &str, kind: &str) -> serde_json::Value {
        serde_json::json!({"file":"a","sha256":"","container":"xml","signatures":[{
            "id":"S1","format":"XAdES","checked":true,"intact":true,"indication":indication,
            "sub_indication":null,"kind":kind,"signed_data":[],"warnings":[],"errors":[]}]})
    }

    #[test]
    fn one_failed_signature_makes_the_whole_submission_failed() {
        let docs = vec![
            doc(sig("TOTAL_PASSED", "qes")),
            doc(sig("TOTAL_FAILED", "qes")),
            doc(sig("INDETERMINATE", "advanced")),
        ];
        let (v, kinds) = summarize(&docs);
        assert_eq!(v, Verdict::Failed);
        assert_eq!(kinds, vec!["qes".to_string(), "advanced".to_string()]);
        assert!(v.badge().contains("NIEWAŻNY"));
    }

    #[test]
    fn a_submission_without_reports_is_plain() {
        assert_eq!(summarize(&[]).0, Verdict::Plain);
    }

    #[test]
    fn the_signer_name_in_the_panel_is_escaped() {
        let mut r = sig("TOTAL_FAILED", "qes");
        r["signatures"][0]["signer"] = serde_json::json!({"name": "<img src=x>"});
        r["signatures"][0]["sub_indication"] = "HASH_FAILURE".into();
        let p = panel(&doc(r));
        assert!(p.contains("&lt;img src=x&gt;"));
        assert!(p.contains("zmieniony po złożeniu podpisu"));
    }

    #[test]
    fn the_chain_is_listed_from_the_signer_to_the_anchor() {
        let mut r = sig("TOTAL_PASSED", "qes");
        let cert = |subject: &str, issuer: &str| {
            serde_json::json!({"subject": subject, "issuer": issuer, "serial": "0A",
                "sha256": "ff", "not_before": "2020-01-01T00:00:00Z",
                "not_after": "2030-01-01T00:00:00Z", "qualified": null})
        };
        r["signatures"][0]["chain"] = serde_json::json!([
            cert("CN=Jan <Kowalski>", "CN=CA pośrednie"),
            cert("CN=CA pośrednie", "CN=Root"),
            cert("CN=Root", "CN=Root"),
        ]);
        let p = panel(&doc(r));
        assert!(p.contains("Ścieżka certyfikacji"));
        let signer = p
            .find("CN=Jan &lt;Kowalski&gt;</b> <small>(certyfikat podpisującego)")
            .unwrap();
        let middle = p
            .find("CN=CA pośrednie</b> <small>(urząd pośredni)")
            .unwrap();
        let root = p.find("CN=Root</b> <small>(kotwica zaufania)").unwrap();
        assert!(signer < middle && middle < root);
        // A report without a chain (older, or no path found) shows no such row.
        assert!(!panel(&doc(sig("TOTAL_FAILED", "qes"))).contains("Ścieżka certyfikacji"));
    }
}
