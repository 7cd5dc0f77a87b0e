//! One Polish sentence per signature for the clerk (issue 5, "the simple report readable by a
//! clerk"): who, what kind, and whether it is valid, with the reason in plain words. Never the
//! PESEL (DESIGN.md: personal data stays out of list views).

use super::kind::Kind;
use super::validate::Validation;
use crate::signature::report::Signer;

fn kind_phrase(kind: Kind) -> &'static str {
    match kind {
        Kind::Qes => "Kwalifikowany podpis elektroniczny",
        Kind::QualifiedSeal => "Kwalifikowana pieczęć elektroniczna",
        Kind::TrustedProfile => "Podpis zaufany",
        Kind::Personal => "Podpis osobisty",
        Kind::Advanced => "Zaawansowany podpis elektroniczny (niekwalifikowany)",
        Kind::Unknown => "Podpis elektroniczny",
    }
}

fn reason(sub: &str) -> &'static str {
    match sub {
        "NO_CERTIFICATE_CHAIN_FOUND" => "certyfikat nie pochodzi od zaufanego wystawcy",
        "CERTIFICATE_CHAIN_GENERAL_FAILURE" | "CHAIN_CONSTRAINTS_FAILURE" => "ścieżka certyfikacji jest wadliwa",
        "CRYPTO_CONSTRAINTS_FAILURE" => "użyto zbyt słabego algorytmu lub klucza",
        "EXPIRED" => "certyfikat wygasł przed złożeniem podpisu",
        "OUT_OF_BOUNDS_NO_POE" | "OUT_OF_BOUNDS_NOT_REVOKED" => {
            "certyfikat wygasł, a brak znacznika czasu dowodzącego wcześniejszego złożenia podpisu"
        }
        "NOT_YET_VALID" => "certyfikat nie był jeszcze ważny",
        "REVOKED" => "certyfikat unieważniono przed złożeniem podpisu",
        "REVOKED_NO_POE" | "REVOKED_CA_NO_POE" => {
            "certyfikat unieważniono, a brak znacznika czasu dowodzącego wcześniejszego złożenia podpisu"
        }
        "TRY_LATER" => "brak informacji o unieważnieniu certyfikatu",
        "HASH_FAILURE" | "SIG_CRYPTO_FAILURE" => "podpisany dokument lub podpis zmieniono po podpisaniu",
        "SIGNED_DATA_NOT_FOUND" => "brak podpisanego dokumentu",
        "NO_SIGNING_CERTIFICATE_FOUND" => "brak certyfikatu podpisującego",
        _ => "podpis ma wadliwą strukturę",
    }
}

/// "ważny" agrees with "podpis", "ważna" with "pieczęć".
fn valid_word(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::QualifiedSeal => ("ważna", "NIEWAŻNA"),
        _ => ("ważny", "NIEWAŻNY"),
    }
}

/// The sentence: `Kwalifikowany podpis elektroniczny: Jan Kowalski — ważny.`
pub fn sentence(v: &Validation, signer: Option<&Signer>) -> String {
    let (valid, invalid) = valid_word(v.kind);
    let who = signer
        .and_then(|s| s.name.clone().or_else(|| s.organization.clone()))
        .unwrap_or_else(|| "nieznany podpisujący".into());
    let sub = v.sub_indication.as_deref().unwrap_or("");
    match v.indication.as_str() {
        "TOTAL_PASSED" => format!("{}: {who} — {valid}.", kind_phrase(v.kind)),
        "TOTAL_FAILED" => format!(
            "{}: {who} — {invalid}: {}.",
            kind_phrase(v.kind),
            reason(sub)
        ),
        _ => format!(
            "{}: {who} — nie można potwierdzić ważności: {}.",
            kind_phrase(v.kind),
            reason(sub)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_qualified_seal_is_called_wazna() {
        let v = Validation {
            indication: "TOTAL_PASSED".into(),
            sub_indication: None,
            kind: Kind::QualifiedSeal,
            qualified: Some(true),
            warnings: Vec::new(),
            errors: Vec::new(),
        };
        let s = Signer {
            organization: Some("Gmina Testowa".into()),
            ..Signer::default()
        };
        assert_eq!(
            sentence(&v, Some(&s)),
            "Kwalifikowana pieczęć elektroniczna: Gmina Testowa — ważna."
        );
    }
}
