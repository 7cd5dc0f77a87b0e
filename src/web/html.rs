//! Server-rendered HTML: the templates of `templates/` (filled in one pass, so a value can never
//! be read as a placeholder), the escaping helper every value from outside goes through, and small
//! formatting helpers shared by the pages.

use std::fmt::Write;

/// The page skeleton.
pub const LAYOUT: &str = include_str!("../../templates/layout.html");
/// The login form.
pub const LOGIN: &str = include_str!("../../templates/login.html");
/// An error page body.
pub const ERROR: &str = include_str!("../../templates/error.html");
/// The stylesheet.
pub const STYLE: &str = include_str!("../../templates/style.css");

/// Escapes text for HTML element content and quoted attribute values.
pub fn h(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query-string value (everything but unreserved characters).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Fills `{{name}}` placeholders of a template in one pass. Values are inserted as given: escape
/// them first unless they are markup built here. Unknown placeholders become empty.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 2..).unwrap_or("");
        match after.find("}}") {
            Some(end) => {
                let key = after.get(..end).unwrap_or("");
                if let Some((_, v)) = values.iter().find(|(k, _)| *k == key) {
                    out.push_str(v);
                }
                rest = after.get(end + 2..).unwrap_or("");
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A whole page: the layout with a title (escaped here), navigation and body markup.
pub fn page(title: &str, nav: &str, body: &str) -> String {
    fill(
        LAYOUT,
        &[("title", &h(title)), ("nav", nav), ("body", body)],
    )
}

/// Hides runs of exactly eleven digits (a PESEL number) in text shown in lists.
pub fn mask_pesel(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
        if run == 0 {
            if let Some(c) = chars.get(i) {
                out.push(*c);
            }
            i += 1;
        } else {
            if run == 11 {
                out.push_str("•••••••••••");
            } else {
                out.extend(chars.iter().skip(i).take(run));
            }
            i += run;
        }
    }
    out
}

/// A size in bytes for people.
pub fn size(n: i64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} kB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            h(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }

    #[test]
    fn a_value_that_looks_like_a_placeholder_is_not_filled_again() {
        let t = "<title>{{title}}</title>{{body}}";
        let out = fill(t, &[("title", "{{body}}"), ("body", "B")]);
        assert_eq!(out, "<title>{{body}}</title>B");
    }

    #[test]
    fn pesel_numbers_are_masked_but_other_numbers_kept() {
        assert_eq!(
            mask_pesel("wniosek 44051401359 nr 123"),
            "wniosek ••••••••••• nr 123"
        );
        assert_eq!(mask_pesel("tel. 123456789012"), "tel. 123456789012");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(url_encode("a b&c=ż"), "a%20b%26c%3D%C5%BC");
    }
}
