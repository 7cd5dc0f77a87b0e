//! ASN.1 times of CMS: UTCTime and GeneralizedTime (X.680 §46–47, RFC 5280 §4.1.2.5) as
//! RFC 3339 UTC, for signingTime (RFC 5652 §11.3) and TSTInfo genTime (RFC 3161 §2.4.2).

use crate::signature::der::{self, Tlv};

/// An attribute value or field holding UTCTime (tag 23) or GeneralizedTime (tag 24).
pub fn from_tlv(tlv: &Tlv<'_>) -> Option<String> {
    let text = std::str::from_utf8(tlv.content).ok()?;
    match tlv.tag.number {
        23 => parse(text, true),
        24 => parse(text, false),
        _ => None,
    }
}

/// The first element of `raw` as a time.
pub fn from_raw(raw: &[u8]) -> Option<String> {
    der::read(raw).ok().and_then(|(t, _)| from_tlv(&t))
}

/// `YYMMDDHHMMSSZ` (years 1950–2049) or `YYYYMMDDHHMMSS[.f]Z`; fractions are dropped.
fn parse(text: &str, utc_time: bool) -> Option<String> {
    let text = text.strip_suffix('Z')?;
    let (year, rest) = if utc_time {
        let yy: i32 = text.get(..2)?.parse().ok()?;
        (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
    } else {
        (text.get(..4)?.parse().ok()?, text.get(4..)?)
    };
    let field = |i: usize| -> Option<u32> { rest.get(i..i + 2)?.parse().ok() };
    let date = chrono::NaiveDate::from_ymd_opt(year, field(0)?, field(2)?)?;
    let time = date.and_hms_opt(field(4)?, field(6)?, field(8)?)?;
    Some(
        time.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utc_and_generalized_times() {
        assert_eq!(
            parse("200420101112Z", true).as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
        assert_eq!(
            parse("990101000000Z", true).as_deref(),
            Some("1999-01-01T00:00:00Z")
        );
        assert_eq!(
            parse("20200420101112.123Z", false).as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
        assert_eq!(parse("2020", false), None);
        assert_eq!(
            from_raw(b"\x18\x0f20200420101112Z").as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
    }
}
