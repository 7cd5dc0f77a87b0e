//! The printable receipt: a small PDF 1.7 writer of its own (ISO 32000-1), A4, the standard
//! Type 1 fonts Helvetica, Helvetica-Bold and Courier (no font embedded), text wrapped to the page
//! width with the fonts' metrics, as many pages as the documents need, and an exact xref table.
//!
//! Text is encoded as Windows-1250 (the Polish letters and the rest of Central European Latin)
//! over `/WinAnsiEncoding` with a `/Differences` array naming every glyph of the upper half
//! (`aogonek`, `lslash`, `zdotaccent`, …; all are in the core fonts' 315-glyph sets), so
//! `pdftotext` and screen readers get the right Unicode back. Characters outside it print as `?`
//! (the XML receipt carries every name exactly).

use super::{channel_name, local_time, size_text, Receipt};
use std::fmt::Write as _;

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// Margins (20 mm) and the room kept for the footer.
const MARGIN: f32 = 56.7;
const FOOTER: f32 = 28.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;

/// The fonts of the receipt (resource names F1, F2, F3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Mono => "F3",
        }
    }
}

/// Code, character, glyph name and advance widths (1/1000 em) in Helvetica and Helvetica-Bold,
/// from the Adobe AFM files (Courier is 600 throughout). Codes 0x20–0x7E are ASCII (WinAnsi
/// names), 0x80–0xFF Windows-1250; 0x81, 0x83, 0x88, 0x90, 0x98 are unassigned there.
#[rustfmt::skip]
const GLYPHS: &[(u8, char, &str, u16, u16)] = &[
    (0x20, ' ', "space", 278, 278),
    (0x21, '!', "exclam", 278, 333),
    (0x22, '"', "quotedbl", 355, 474),
    (0x23, '#', "numbersign", 556, 556),
    (0x24, '$', "dollar", 556, 556),
    (0x25, '%', "percent", 889, 889),
    (0x26, '&', "ampersand", 667, 722),
    (0x27, '\'', "quotesingle", 191, 238),
    (0x28, '(', "parenleft", 333, 333),
    (0x29, ')', "parenright", 333, 333),
    (0x2a, '*', "asterisk", 389, 389),
    (0x2b, '+', "plus", 584, 584),
    (0x2c, ',', "comma", 278, 278),
    (0x2d, '-', "hyphen", 333, 333),
    (0x2e, '.', "period", 278, 278),
    (0x2f, '/', "slash", 278, 278),
    (0x30, '0', "zero", 556, 556),
    (0x31, '1', "one", 556, 556),
    (0x32, '2', "two", 556, 556),
    (0x33, '3', "three", 556, 556),
    (0x34, '4', "four", 556, 556),
    (0x35, '5', "five", 556, 556),
    (0x36, '6', "six", 556, 556),
    (0x37, '7', "seven", 556, 556),
    (0x38, '8', "eight", 556, 556),
    (0x39, '9', "nine", 556, 556),
    (0x3a, ':', "colon", 278, 333),
    (0x3b, ';', "semicolon", 278, 333),
    (0x3c, '<', "less", 584, 584),
    (0x3d, '=', "equal", 584, 584),
    (0x3e, '>', "greater", 584, 584),
    (0x3f, '?', "question", 556, 611),
    (0x40, '@', "at", 1015, 975),
    (0x41, 'A', "A", 667, 722),
    (0x42, 'B', "B", 667, 722),
    (0x43, 'C', "C", 722, 722),
    (0x44, 'D', "D", 722, 722),
    (0x45, 'E', "E", 667, 667),
    (0x46, 'F', "F", 611, 611),
    (0x47, 'G', "G", 778, 778),
    (0x48, 'H', "H", 722, 722),
    (0x49, 'I', "I", 278, 278),
    (0x4a, 'J', "J", 500, 556),
    (0x4b, 'K', "K", 667, 722),
    (0x4c, 'L', "L", 556, 611),
    (0x4d, 'M', "M", 833, 833),
    (0x4e, 'N', "N", 722, 722),
    (0x4f, 'O', "O", 778, 778),
    (0x50, 'P', "P", 667, 667),
    (0x51, 'Q', "Q", 778, 778),
    (0x52, 'R', "R", 722, 722),
    (0x53, 'S', "S", 667, 667),
    (0x54, 'T', "T", 611, 611),
    (0x55, 'U', "U", 722, 722),
    (0x56, 'V', "V", 667, 667),
    (0x57, 'W', "W", 944, 944),
    (0x58, 'X', "X", 667, 667),
    (0x59, 'Y', "Y", 667, 667),
    (0x5a, 'Z', "Z", 611, 611),
    (0x5b, '[', "bracketleft", 278, 333),
    (0x5c, '\\', "backslash", 278, 278),
    (0x5d, ']', "bracketright", 278, 333),
    (0x5e, '^', "asciicircum", 469, 584),
    (0x5f, '_', "underscore", 556, 556),
    (0x60, '`', "grave", 333, 333),
    (0x61, 'a', "a", 556, 556),
    (0x62, 'b', "b", 556, 611),
    (0x63, 'c', "c", 500, 556),
    (0x64, 'd', "d", 556, 611),
    (0x65, 'e', "e", 556, 556),
    (0x66, 'f', "f", 278, 333),
    (0x67, 'g', "g", 556, 611),
    (0x68, 'h', "h", 556, 611),
    (0x69, 'i', "i", 222, 278),
    (0x6a, 'j', "j", 222, 278),
    (0x6b, 'k', "k", 500, 556),
    (0x6c, 'l', "l", 222, 278),
    (0x6d, 'm', "m", 833, 889),
    (0x6e, 'n', "n", 556, 611),
    (0x6f, 'o', "o", 556, 611),
    (0x70, 'p', "p", 556, 611),
    (0x71, 'q', "q", 556, 611),
    (0x72, 'r', "r", 333, 389),
    (0x73, 's', "s", 500, 556),
    (0x74, 't', "t", 278, 333),
    (0x75, 'u', "u", 556, 611),
    (0x76, 'v', "v", 500, 556),
    (0x77, 'w', "w", 722, 778),
    (0x78, 'x', "x", 500, 556),
    (0x79, 'y', "y", 500, 556),
    (0x7a, 'z', "z", 500, 500),
    (0x7b, '{', "braceleft", 334, 389),
    (0x7c, '|', "bar", 260, 280),
    (0x7d, '}', "braceright", 334, 389),
    (0x7e, '~', "asciitilde", 584, 584),
    (0x80, '€', "Euro", 556, 556),
    (0x82, '‚', "quotesinglbase", 222, 278),
    (0x84, '„', "quotedblbase", 333, 500),
    (0x85, '…', "ellipsis", 1000, 1000),
    (0x86, '†', "dagger", 556, 556),
    (0x87, '‡', "daggerdbl", 556, 556),
    (0x89, '‰', "perthousand", 1000, 1000),
    (0x8a, 'Š', "Scaron", 667, 667),
    (0x8b, '‹', "guilsinglleft", 333, 333),
    (0x8c, 'Ś', "Sacute", 667, 667),
    (0x8d, 'Ť', "Tcaron", 611, 611),
    (0x8e, 'Ž', "Zcaron", 611, 611),
    (0x8f, 'Ź', "Zacute", 611, 611),
    (0x91, '‘', "quoteleft", 222, 278),
    (0x92, '’', "quoteright", 222, 278),
    (0x93, '“', "quotedblleft", 333, 500),
    (0x94, '”', "quotedblright", 333, 500),
    (0x95, '•', "bullet", 350, 350),
    (0x96, '–', "endash", 556, 556),
    (0x97, '—', "emdash", 1000, 1000),
    (0x99, '™', "trademark", 1000, 1000),
    (0x9a, 'š', "scaron", 500, 556),
    (0x9b, '›', "guilsinglright", 333, 333),
    (0x9c, 'ś', "sacute", 500, 556),
    (0x9d, 'ť', "tcaron", 317, 389),
    (0x9e, 'ž', "zcaron", 500, 500),
    (0x9f, 'ź', "zacute", 500, 500),
    (0xa0, '\u{a0}', "space", 278, 278),
    (0xa1, 'ˇ', "caron", 333, 333),
    (0xa2, '˘', "breve", 333, 333),
    (0xa3, 'Ł', "Lslash", 556, 611),
    (0xa4, '¤', "currency", 556, 556),
    (0xa5, 'Ą', "Aogonek", 667, 722),
    (0xa6, '¦', "brokenbar", 260, 280),
    (0xa7, '§', "section", 556, 556),
    (0xa8, '¨', "dieresis", 333, 333),
    (0xa9, '©', "copyright", 737, 737),
    (0xaa, 'Ş', "Scedilla", 667, 667),
    (0xab, '«', "guillemotleft", 556, 556),
    (0xac, '¬', "logicalnot", 584, 584),
    (0xad, '\u{ad}', "hyphen", 333, 333),
    (0xae, '®', "registered", 737, 737),
    (0xaf, 'Ż', "Zdotaccent", 611, 611),
    (0xb0, '°', "degree", 400, 400),
    (0xb1, '±', "plusminus", 584, 584),
    (0xb2, '˛', "ogonek", 333, 333),
    (0xb3, 'ł', "lslash", 222, 278),
    (0xb4, '´', "acute", 333, 333),
    (0xb5, 'µ', "mu", 578, 611),
    (0xb6, '¶', "paragraph", 537, 556),
    (0xb7, '·', "periodcentered", 278, 278),
    (0xb8, '¸', "cedilla", 333, 333),
    (0xb9, 'ą', "aogonek", 556, 556),
    (0xba, 'ş', "scedilla", 500, 556),
    (0xbb, '»', "guillemotright", 556, 556),
    (0xbc, 'Ľ', "Lcaron", 556, 611),
    (0xbd, '˝', "hungarumlaut", 333, 333),
    (0xbe, 'ľ', "lcaron", 299, 400),
    (0xbf, 'ż', "zdotaccent", 500, 500),
    (0xc0, 'Ŕ', "Racute", 722, 722),
    (0xc1, 'Á', "Aacute", 667, 722),
    (0xc2, 'Â', "Acircumflex", 667, 722),
    (0xc3, 'Ă', "Abreve", 667, 722),
    (0xc4, 'Ä', "Adieresis", 667, 722),
    (0xc5, 'Ĺ', "Lacute", 556, 611),
    (0xc6, 'Ć', "Cacute", 722, 722),
    (0xc7, 'Ç', "Ccedilla", 722, 722),
    (0xc8, 'Č', "Ccaron", 722, 722),
    (0xc9, 'É', "Eacute", 667, 667),
    (0xca, 'Ę', "Eogonek", 667, 667),
    (0xcb, 'Ë', "Edieresis", 667, 667),
    (0xcc, 'Ě', "Ecaron", 667, 667),
    (0xcd, 'Í', "Iacute", 278, 278),
    (0xce, 'Î', "Icircumflex", 278, 278),
    (0xcf, 'Ď', "Dcaron", 722, 722),
    (0xd0, 'Đ', "Dcroat", 722, 722),
    (0xd1, 'Ń', "Nacute", 722, 722),
    (0xd2, 'Ň', "Ncaron", 722, 722),
    (0xd3, 'Ó', "Oacute", 778, 778),
    (0xd4, 'Ô', "Ocircumflex", 778, 778),
    (0xd5, 'Ő', "Ohungarumlaut", 778, 778),
    (0xd6, 'Ö', "Odieresis", 778, 778),
    (0xd7, '×', "multiply", 584, 584),
    (0xd8, 'Ř', "Rcaron", 722, 722),
    (0xd9, 'Ů', "Uring", 722, 722),
    (0xda, 'Ú', "Uacute", 722, 722),
    (0xdb, 'Ű', "Uhungarumlaut", 722, 722),
    (0xdc, 'Ü', "Udieresis", 722, 722),
    (0xdd, 'Ý', "Yacute", 667, 667),
    (0xde, 'Ţ', "Tcommaaccent", 611, 611),
    (0xdf, 'ß', "germandbls", 611, 611),
    (0xe0, 'ŕ', "racute", 333, 389),
    (0xe1, 'á', "aacute", 556, 556),
    (0xe2, 'â', "acircumflex", 556, 556),
    (0xe3, 'ă', "abreve", 556, 556),
    (0xe4, 'ä', "adieresis", 556, 556),
    (0xe5, 'ĺ', "lacute", 222, 278),
    (0xe6, 'ć', "cacute", 500, 556),
    (0xe7, 'ç', "ccedilla", 500, 556),
    (0xe8, 'č', "ccaron", 500, 556),
    (0xe9, 'é', "eacute", 556, 556),
    (0xea, 'ę', "eogonek", 556, 556),
    (0xeb, 'ë', "edieresis", 556, 556),
    (0xec, 'ě', "ecaron", 556, 556),
    (0xed, 'í', "iacute", 278, 278),
    (0xee, 'î', "icircumflex", 278, 278),
    (0xef, 'ď', "dcaron", 643, 743),
    (0xf0, 'đ', "dcroat", 556, 611),
    (0xf1, 'ń', "nacute", 556, 611),
    (0xf2, 'ň', "ncaron", 556, 611),
    (0xf3, 'ó', "oacute", 556, 611),
    (0xf4, 'ô', "ocircumflex", 556, 611),
    (0xf5, 'ő', "ohungarumlaut", 556, 611),
    (0xf6, 'ö', "odieresis", 556, 611),
    (0xf7, '÷', "divide", 584, 584),
    (0xf8, 'ř', "rcaron", 333, 389),
    (0xf9, 'ů', "uring", 556, 611),
    (0xfa, 'ú', "uacute", 556, 611),
    (0xfb, 'ű', "uhungarumlaut", 556, 611),
    (0xfc, 'ü', "udieresis", 556, 611),
    (0xfd, 'ý', "yacute", 500, 556),
    (0xfe, 'ţ', "tcommaaccent", 278, 333),
    (0xff, '˙', "dotaccent", 333, 333),
];

/// The byte of `c` in the receipt's encoding; `?` when the fonts cannot show it.
fn encode(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\t' | '\n' | '\r' => b' ',
        '\u{ad}' => b'-',
        _ => GLYPHS
            .iter()
            .filter(|g| g.0 >= 0x80)
            .find(|g| g.1 == c)
            .map_or(b'?', |g| g.0),
    }
}

/// The advance width of `byte` in `font` at `size` points.
fn width_of(byte: u8, font: Font, size: f32) -> f32 {
    let units = match font {
        Font::Mono => 600,
        Font::Regular | Font::Bold => GLYPHS.iter().find(|g| g.0 == byte).map_or(1000, |g| {
            if font == Font::Bold {
                g.4
            } else {
                g.3
            }
        }),
    };
    f32::from(units) * size / 1000.0
}

fn text_width(bytes: &[u8], font: Font, size: f32) -> f32 {
    bytes.iter().map(|&b| width_of(b, font, size)).sum()
}

/// One line as placed: runs of (font, encoded bytes) drawn one after the other.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    indent: f32,
    size: f32,
    /// Distance from the previous baseline to this one (the line height).
    leading: f32,
    runs: Vec<(Font, Vec<u8>)>,
}

#[cfg(test)]
impl Line {
    fn width(&self) -> f32 {
        self.runs
            .iter()
            .map(|(f, t)| text_width(t, *f, self.size))
            .sum()
    }
}

/// Wraps runs of text into lines at most `width` wide: at spaces where possible, inside a word
/// (a long file name, a URL, a hash) where it is wider than a whole line.
fn wrap(runs: &[(Font, &str)], size: f32, width: f32) -> Vec<Vec<(Font, Vec<u8>)>> {
    let mut lines: Vec<Vec<(Font, Vec<u8>)>> = Vec::new();
    let mut line: Vec<(Font, Vec<u8>)> = Vec::new();
    let mut used = 0.0;
    let push = |line: &mut Vec<(Font, Vec<u8>)>, font: Font, b: u8| match line.last_mut() {
        Some((f, t)) if *f == font => t.push(b),
        _ => line.push((font, vec![b])),
    };
    for &(font, text) in runs {
        let bytes: Vec<u8> = text.chars().map(encode).collect();
        for word in split_words(&bytes) {
            let w = text_width(word, font, size);
            let is_space = word == b" ";
            if is_space && line.is_empty() {
                continue;
            }
            if used + w > width && !line.is_empty() && !is_space {
                trim_end(&mut line);
                lines.push(std::mem::take(&mut line));
                used = 0.0;
            }
            if is_space && used + w > width {
                continue;
            }
            for &b in word {
                let bw = width_of(b, font, size);
                if used + bw > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    used = 0.0;
                }
                push(&mut line, font, b);
                used += bw;
            }
        }
    }
    trim_end(&mut line);
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Words and single spaces, in order.
fn split_words(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = Vec::new();
    for part in bytes.split_inclusive(|&b| b == b' ') {
        match part.split_last() {
            Some((b' ', word)) => {
                if !word.is_empty() {
                    out.push(word);
                }
                out.push(b" ");
            }
            _ => out.push(part),
        }
    }
    out
}

fn trim_end(line: &mut Vec<(Font, Vec<u8>)>) {
    while let Some((_, t)) = line.last_mut() {
        while t.last() == Some(&b' ') {
            t.pop();
        }
        if t.is_empty() {
            line.pop();
        } else {
            break;
        }
    }
}

/// A group of lines kept on one page when it fits on one.
type Block = Vec<Line>;

/// A paragraph as a block.
fn paragraph(runs: &[(Font, &str)], size: f32, indent: f32, space_before: f32) -> Block {
    let leading = size * 1.3;
    wrap(runs, size, TEXT_W - indent)
        .into_iter()
        .enumerate()
        .map(|(i, runs)| Line {
            indent,
            size,
            leading: if i == 0 {
                leading + space_before
            } else {
                leading
            },
            runs,
        })
        .collect()
}

/// A label in bold and its value.
fn field(label: &str, value: &str) -> Block {
    paragraph(
        &[(Font::Bold, label), (Font::Regular, value)],
        10.0,
        0.0,
        0.0,
    )
}

/// Everything the receipt says, as blocks in reading order.
fn blocks(r: &Receipt, tz: chrono_tz::Tz) -> Vec<Block> {
    let mut out = vec![
        paragraph(&[(Font::Bold, &r.office)], 13.0, 0.0, 0.0),
        paragraph(
            &[(Font::Bold, "Urzędowe poświadczenie przedłożenia")],
            17.0,
            0.0,
            10.0,
        ),
        paragraph(
            &[(Font::Regular, "Urząd potwierdza, że w podanym czasie otrzymał wymienione niżej dokumenty elektroniczne.")],
            9.0,
            0.0,
            2.0,
        ),
    ];
    let mut facts = vec![
        field("Numer w rejestrze (RPW): ", &r.registration_number),
        field("Data i godzina wpływu: ", &local_time(r.received_at, tz)),
        field(
            "Data i godzina sporządzenia poświadczenia: ",
            &local_time(r.issued_at, tz),
        ),
        field("Sposób wniesienia: ", channel_name(&r.channel)),
        field("Identyfikator zgłoszenia: ", &r.submission_id),
    ];
    for (label, value) in [
        ("Adres e-mail nadawcy: ", &r.sender_email),
        ("Tytuł: ", &r.subject),
        ("Wydział: ", &r.department),
    ] {
        if let Some(v) = value {
            facts.push(field(label, v));
        }
    }
    if let Some(first) = facts.first_mut().and_then(|b| b.first_mut()) {
        first.leading += 12.0;
    }
    out.extend(facts);
    if r.access_code.is_some() || r.status_url.is_some() {
        let mut status = paragraph(&[(Font::Bold, "Sprawdzanie stanu sprawy")], 11.0, 0.0, 10.0);
        status.extend(paragraph(
            &[(Font::Regular, "Stan sprawy sprawdzisz, podając numer w rejestrze i kod dostępu. Kodu nie przekazuj osobom trzecim.")],
            9.0,
            0.0,
            0.0,
        ));
        if let Some(code) = &r.access_code {
            status.extend(paragraph(
                &[(Font::Bold, "Kod dostępu: "), (Font::Mono, code)],
                12.0,
                0.0,
                2.0,
            ));
        }
        if let Some(url) = &r.status_url {
            status.extend(paragraph(
                &[(Font::Bold, "Adres: "), (Font::Regular, url)],
                10.0,
                0.0,
                0.0,
            ));
        }
        out.push(status);
    }
    let heading = format!("Dokumenty ({})", r.documents.len());
    out.push(paragraph(&[(Font::Bold, &heading)], 12.0, 0.0, 12.0));
    for (i, d) in r.documents.iter().enumerate() {
        let number = format!("{}. ", i + 1);
        let mut b = paragraph(
            &[(Font::Bold, &number), (Font::Bold, &d.name)],
            10.0,
            0.0,
            6.0,
        );
        b.extend(paragraph(
            &[(Font::Regular, "SHA-256: "), (Font::Mono, &d.sha256)],
            8.5,
            14.0,
            0.0,
        ));
        b.extend(paragraph(
            &[
                (Font::Regular, "Rozmiar: "),
                (Font::Regular, &size_text(d.size)),
            ],
            9.0,
            14.0,
            0.0,
        ));
        b.extend(paragraph(
            &[
                (Font::Regular, "Wynik weryfikacji: "),
                (Font::Regular, &d.verdict),
            ],
            9.0,
            14.0,
            0.0,
        ));
        out.push(b);
    }
    out.push(paragraph(
        &[(Font::Regular, "Poświadczenie sporządzono automatycznie w elektronicznej skrzynce podawczej urzędu. Skrót SHA-256 jednoznacznie identyfikuje treść pliku: ten sam plik ma zawsze ten sam skrót.")],
        8.0,
        0.0,
        14.0,
    ));
    out
}

/// Lines placed on pages: (baseline y, line) per page. A block moves to the next page whole
/// when it fits on an empty one.
fn paginate(blocks: Vec<Block>) -> Vec<Vec<(f32, Line)>> {
    let top = PAGE_H - MARGIN;
    let bottom = MARGIN + FOOTER;
    let mut pages: Vec<Vec<(f32, Line)>> = vec![Vec::new()];
    let mut y = top;
    for block in blocks {
        let height: f32 = block.iter().map(|l| l.leading).sum();
        let on_fresh_page = pages.last().is_none_or(Vec::is_empty);
        if y - height < bottom && height <= top - bottom && !on_fresh_page {
            pages.push(Vec::new());
            y = top;
        }
        for line in block {
            let fresh = pages.last().is_none_or(Vec::is_empty);
            let step = if fresh { line.size } else { line.leading };
            if y - step < bottom && !fresh {
                pages.push(Vec::new());
                y = top;
            }
            let fresh = pages.last().is_none_or(Vec::is_empty);
            y -= if fresh { line.size } else { line.leading };
            if let Some(page) = pages.last_mut() {
                page.push((y, line));
            }
        }
    }
    pages
}

/// A PDF literal string of encoded bytes: `\`, `(`, `)` escaped, bytes outside ASCII in octal,
/// so content streams stay 7-bit.
fn literal(bytes: &[u8]) -> String {
    let mut out = String::from("(");
    for &b in bytes {
        match b {
            b'\\' | b'(' | b')' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// The content stream of one page, with its footer.
fn content(lines: &[(f32, Line)], footer: &str) -> String {
    let mut s = String::new();
    for (y, line) in lines {
        let _ = write!(s, "BT 1 0 0 1 {:.2} {y:.2} Tm", MARGIN + line.indent);
        for (font, text) in &line.runs {
            let _ = write!(
                s,
                " /{} {} Tf {} Tj",
                font.resource(),
                line.size,
                literal(text)
            );
        }
        s.push_str(" ET\n");
    }
    let rule = MARGIN + FOOTER - 10.0;
    let _ = writeln!(
        s,
        "0.5 w {MARGIN:.2} {rule:.2} m {:.2} {rule:.2} l S",
        PAGE_W - MARGIN
    );
    let bytes: Vec<u8> = footer.chars().map(encode).collect();
    let _ = writeln!(
        s,
        "BT 1 0 0 1 {MARGIN:.2} {:.2} Tm /F1 8 Tf {} Tj ET",
        rule - 11.0,
        literal(&bytes)
    );
    s
}

/// A PDF text string for the document information: UTF-16BE with a byte order mark, in hex.
fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// Objects in order, numbered from 1, written with a correct cross-reference table.
fn write_pdf(objects: &[Vec<u8>], id: &str) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(table, "{o:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend(table.into_bytes());
    out
}

/// The receipt as a printable A4 PDF, times in the office's time zone `tz`.
pub fn pdf(r: &Receipt, tz: chrono_tz::Tz) -> Vec<u8> {
    let pages = paginate(blocks(r, tz));
    let count = pages.len();
    // 1 catalog, 2 page tree, 3 encoding, 4-6 fonts, 7 information; then page, content pairs.
    let kids: Vec<String> = (0..count).map(|i| format!("{} 0 R", 8 + 2 * i)).collect();
    let mut differences = String::new();
    for (code, _, name, _, _) in GLYPHS.iter().filter(|g| g.0 >= 0x80) {
        let _ = write!(differences, " {code} /{name}");
    }
    let font = |base: &str| {
        format!("<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding 3 0 R >>").into_bytes()
    };
    let local = r.issued_at.with_timezone(&tz);
    let offset = local.format("%:z").to_string().replace(':', "'");
    let created = format!("D:{}{offset}'", local.format("%Y%m%d%H%M%S"));
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R /Lang (pl-PL) >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {count} >>",
            kids.join(" ")
        )
        .into_bytes(),
        format!(
            "<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [{differences} ] >>"
        )
        .into_bytes(),
        font("Helvetica"),
        font("Helvetica-Bold"),
        font("Courier"),
        format!(
            "<< /Title {} /Subject {} /Producer (Podawcza) /CreationDate ({created}) >>",
            text_string(&format!(
                "Urzędowe poświadczenie przedłożenia {}",
                r.registration_number
            )),
            text_string(&r.office),
        )
        .into_bytes(),
    ];
    for (i, lines) in pages.iter().enumerate() {
        let footer = format!(
            "{} — {} — strona {} z {count}",
            r.office,
            r.registration_number,
            i + 1
        );
        let stream = content(lines, &footer);
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 4 0 R /F2 5 0 R /F3 6 0 R >> >> /Contents {} 0 R >>",
                9 + 2 * i
            )
            .into_bytes(),
        );
        objects.push(
            format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()).into_bytes(),
        );
    }
    // The file identifier (§14.4): a digest of the content, so the same receipt gives the same file.
    let id = crate::storage::blobs::sha256_hex(&objects.concat());
    write_pdf(&objects, id.get(..32).unwrap_or(&id))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::receipt::tests::sample;

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    /// Parses the file's own structure: `startxref` → the xref table → every in-use entry
    /// points at `N 0 obj`, every stream's `/Length` ends at `endstream`. Returns the objects.
    fn objects(pdf: &[u8]) -> Vec<Vec<u8>> {
        assert!(pdf.starts_with(b"%PDF-1.7\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let sx = find(pdf, b"startxref\n").unwrap();
        let tail = std::str::from_utf8(&pdf[sx + 10..]).unwrap();
        let xref: usize = tail.lines().next().unwrap().parse().unwrap();
        let table = std::str::from_utf8(&pdf[xref..sx]).unwrap();
        let mut lines = table.lines();
        assert_eq!(lines.next(), Some("xref"));
        let count: usize = lines
            .next()
            .unwrap()
            .strip_prefix("0 ")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(lines.next(), Some("0000000000 65535 f "));
        let trailer = &table[table.find("trailer").unwrap()..];
        assert!(trailer.contains(&format!("/Size {count} ")));
        let mut out = Vec::new();
        for n in 1..count {
            let entry = lines.next().unwrap();
            // Each entry is exactly 20 bytes with its end of line (§7.5.4).
            assert_eq!(entry.len() + 1, 20, "{entry:?}");
            assert!(entry.ends_with(" 00000 n "));
            let off: usize = entry[..10].parse().unwrap();
            let head = format!("{n} 0 obj\n");
            assert!(pdf[off..].starts_with(head.as_bytes()), "object {n}");
            let body_start = off + head.len();
            let end = body_start + find(&pdf[body_start..], b"\nendobj\n").unwrap();
            let body = pdf[body_start..end].to_vec();
            if let Some(s) = find(&body, b"\nstream\n") {
                let dict = std::str::from_utf8(&body[..s]).unwrap();
                let len: usize = dict
                    .split("/Length ")
                    .nth(1)
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(&body[s + 8 + len..], b"endstream", "object {n}");
            }
            out.push(body);
        }
        out
    }

    fn contents(objs: &[Vec<u8>]) -> String {
        objs.iter()
            .filter(|o| find(o, b"stream\n").is_some())
            .map(|o| String::from_utf8(o.clone()).unwrap())
            .collect()
    }

    #[test]
    fn the_xref_table_points_at_every_object() {
        let pdf = pdf(&sample(2), chrono_tz::Europe::Warsaw);
        let objs = objects(&pdf);
        assert_eq!(objs.len(), 9);
        let catalog = String::from_utf8(objs[0].clone()).unwrap();
        assert!(catalog.contains("/Type /Catalog"));
        let encoding = String::from_utf8(objs[2].clone()).unwrap();
        for glyph in [
            "aogonek",
            "cacute",
            "eogonek",
            "lslash",
            "nacute",
            "oacute",
            "sacute",
            "zacute",
            "zdotaccent",
            "Aogonek",
            "Cacute",
            "Eogonek",
            "Lslash",
            "Nacute",
            "Oacute",
            "Sacute",
            "Zacute",
            "Zdotaccent",
        ] {
            assert!(encoding.contains(&format!(" /{glyph} ")), "{glyph}");
        }
    }

    #[test]
    fn polish_letters_are_encoded_as_their_glyph_codes() {
        let bytes: Vec<u8> = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ".chars().map(encode).collect();
        assert_eq!(
            bytes,
            [
                0xB9, 0xE6, 0xEA, 0xB3, 0xF1, 0xF3, 0x9C, 0x9F, 0xBF, 0xA5, 0xC6, 0xCA, 0xA3, 0xD1,
                0xD3, 0x8C, 0x8F, 0xAF
            ]
        );
        assert_eq!(encode('漢'), b'?');
        assert_eq!(literal(&[b'(', b'\\', 0xB9]), "(\\(\\\\\\271)");
    }

    #[test]
    fn many_documents_take_several_pages_and_every_hash_is_printed() {
        let r = sample(40);
        let objs = objects(&pdf(&r, chrono_tz::Europe::Warsaw));
        let pages = String::from_utf8(objs[1].clone()).unwrap();
        let count: usize = pages
            .split("/Count ")
            .nth(1)
            .unwrap()
            .trim_end_matches(" >>")
            .parse()
            .unwrap();
        assert!(count >= 3, "{pages}");
        assert_eq!(objs.len(), 7 + 2 * count);
        let text = contents(&objs);
        for d in &r.documents {
            assert!(text.contains(&d.sha256), "{}", d.sha256);
        }
        assert!(text.contains(&format!("strona {count} z {count}")));
    }

    #[test]
    fn long_names_and_hashes_wrap_within_the_page() {
        let mut r = sample(1);
        r.documents[0].name = "W".repeat(300) + ".pdf";
        r.documents[0].verdict = "Podpis niepoprawny: dokument zmieniono po podpisaniu. ".repeat(8);
        for block in blocks(&r, chrono_tz::Europe::Warsaw) {
            for line in block {
                assert!(
                    line.indent + line.width() <= TEXT_W + 0.01,
                    "{} > {TEXT_W}",
                    line.width()
                );
            }
        }
        // A hash at a size too large for one line is split, never cut.
        let lines = wrap(&[(Font::Mono, &"a".repeat(64))], 20.0, 300.0);
        assert!(lines.len() > 1);
        let joined: usize = lines.iter().flatten().map(|(_, t)| t.len()).sum();
        assert_eq!(joined, 64);
    }

    #[test]
    fn words_wrap_at_spaces() {
        let lines = wrap(&[(Font::Regular, "alfa beta gamma delta")], 10.0, 60.0);
        let text: Vec<String> = lines
            .iter()
            .map(|l| l.iter().map(|(_, t)| String::from_utf8_lossy(t)).collect())
            .collect();
        assert_eq!(text, ["alfa beta", "gamma delta"]);
    }

    #[test]
    fn the_same_receipt_gives_the_same_bytes() {
        let r = sample(3);
        assert_eq!(
            pdf(&r, chrono_tz::Europe::Warsaw),
            pdf(&r, chrono_tz::Europe::Warsaw)
        );
    }
}
