//! Classification: pure functions from a submission's facts and reports to a department
//! (dekretacja by the rules of `[routing]`) and a plain/signed summary.
//!
//! Routing tries the rules of `[[routing.rules]]` in order; the first that matches decides, and
//! the decision records the rule and what matched where, so a clerk can see why an item landed in
//! an inbox. A rule matches on a recipient address (exact, case-insensitive), on the sender (exact
//! or an `@domain` suffix), or on a keyword or phrase in the subject, the text or a file name.
//!
//! Keywords are matched on *stems*: the text is folded ([`fold`]: Polish diacritics and case),
//! split into tokens on anything that is not a letter or digit, and each token is cut by a light
//! stemmer ([`stem`]) that strips the longest known Polish inflectional ending while at least
//! [`MIN_STEM`] letters remain. A phrase matches when its stems appear as consecutive tokens.
//! Acronyms in the config (two or more capitals and no space, like `USC`, `VIN`, `CEPiK`) match
//! the exact folded token only, never a stem, so `VIN` does not find `vinyl` nor `vina`.
//!
//! Known limits of the stemmer (it is a stemmer, not a dictionary): stem alternations other than
//! the locative `-dzie`/`-cie` (`dowodzie` → `dowod`, `pobycie` → `pobyt`) and the fleeting `e`
//! of `-ek` (`wniosek`/`wniosku`) are not undone, so `skardze` does not find `skarga` and
//! `mieście` does not find `miasto`; verbs keep their endings, so `dowodzić` does not match
//! `dowód` (wanted), but neither does a verb match its noun.

use crate::config::{RoutingConfig, RuleConfig};
use std::collections::HashSet;

/// The shortest stem the stemmer leaves: an ending is stripped only if this many letters remain.
pub const MIN_STEM: usize = 3;

/// Text looked at per field, in bytes: a keyword beyond it is not seen (bounds the work per message).
const MAX_FIELD_BYTES: usize = 256 * 1024;

/// Inflectional endings (folded), longest first: nouns and adjectives in all cases and numbers.
const ENDINGS: &[&str] = &[
    "iami", "iach", "owie", "owej", "owym", "owych", "owego", "owemu", "ami", "ach", "ego", "emu",
    "ymi", "imi", "ych", "ich", "owi", "iem", "iom", "owa", "owe", "owy", "om", "ow", "em", "ie",
    "ia", "iu", "ii", "ej", "ym", "im", "a", "e", "i", "o", "u", "y",
];

/// What routing looks at.
#[derive(Debug, Clone, Default)]
pub struct RoutingInput<'a> {
    /// Recipient addresses (To and Cc).
    pub recipients: &'a [String],
    /// Sender address.
    pub sender: Option<&'a str>,
    /// Subject.
    pub subject: Option<&'a str>,
    /// Message text.
    pub text: Option<&'a str>,
    /// Document names.
    pub file_names: Vec<&'a str>,
}

/// A routing decision, with the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// Department code.
    pub department: String,
    /// Rule name, or `default` when no rule matched.
    pub rule: String,
    /// What matched (the address, or the keyword and where it was found).
    pub matched: Option<String>,
}

/// Compiled routing rules.
#[derive(Debug, Clone)]
pub struct Router {
    default_department: String,
    rules: Vec<Rule>,
}

/// One rule, folded and stemmed once.
#[derive(Debug, Clone)]
struct Rule {
    name: String,
    department: String,
    /// Recipient addresses, lowercased.
    to: Vec<String>,
    /// Sender addresses or `@domain` suffixes, lowercased.
    sender: Vec<String>,
    keywords: Vec<Keyword>,
}

/// A keyword or phrase as configured, and the token sequence it matches.
#[derive(Debug, Clone)]
struct Keyword {
    original: String,
    /// One term per word of the phrase.
    terms: Vec<Term>,
}

/// A word of a keyword: a stem, or for acronyms the exact folded token.
#[derive(Debug, Clone)]
struct Term {
    text: String,
    exact: bool,
}

/// A token of a field: its stem and where it sits in the original text.
#[derive(Debug, Clone)]
struct Token {
    /// The stem (the folded token itself when it is too short to stem).
    stem: String,
    /// The folded token, unstemmed (for exact acronym matching).
    folded: String,
    start: usize,
    end: usize,
}

/// A field of the input, tokenised once per message.
struct Field<'a> {
    /// How the decision names it: `subject`, `text`, `file name "x.pdf"`.
    label: String,
    text: &'a str,
    tokens: Vec<Token>,
    /// Every stem and folded token of the field: most keywords are ruled out by one lookup.
    words: HashSet<String>,
}

impl Router {
    /// Compiles the rules of the configuration.
    pub fn new(config: &RoutingConfig) -> Router {
        Router {
            default_department: config.default_department.clone(),
            rules: config.rules.iter().map(Rule::compile).collect(),
        }
    }

    /// Chooses the department for a submission.
    pub fn route(&self, input: &RoutingInput<'_>) -> Decision {
        let mut fields: Option<Vec<Field<'_>>> = None;
        for rule in &self.rules {
            let matched = rule.match_addresses(input).or_else(|| {
                if rule.keywords.is_empty() {
                    return None;
                }
                let fields = fields.get_or_insert_with(|| fields_of(input));
                rule.match_keywords(fields)
            });
            if let Some(matched) = matched {
                return Decision {
                    department: rule.department.clone(),
                    rule: rule.name.clone(),
                    matched: Some(matched),
                };
            }
        }
        Decision {
            department: self.default_department.clone(),
            rule: "default".into(),
            matched: None,
        }
    }
}

impl Rule {
    fn compile(config: &RuleConfig) -> Rule {
        let lower = |v: &Vec<String>| v.iter().map(|s| s.trim().to_lowercase()).collect();
        Rule {
            name: config.name.clone(),
            department: config.department.clone(),
            to: lower(&config.to),
            sender: lower(&config.sender),
            keywords: config
                .keywords
                .iter()
                .filter_map(|k| Keyword::compile(k))
                .collect(),
        }
    }

    /// A recipient equal to a `to` entry, or a sender equal to (or in the domain of) a `sender` entry.
    fn match_addresses(&self, input: &RoutingInput<'_>) -> Option<String> {
        for recipient in input.recipients {
            let address = bare_address(recipient);
            if self.to.contains(&address) {
                return Some(format!("to: {address}"));
            }
        }
        let sender = bare_address(input.sender?);
        self.sender.iter().find_map(|entry| {
            let hit = if entry.starts_with('@') {
                sender.ends_with(entry.as_str())
            } else {
                sender == *entry
            };
            hit.then(|| format!("sender: {sender}"))
        })
    }

    fn match_keywords(&self, fields: &[Field<'_>]) -> Option<String> {
        for field in fields {
            for keyword in &self.keywords {
                if !keyword.may_occur_in(&field.words) {
                    continue;
                }
                if let Some((start, end)) = keyword.find_in(&field.tokens) {
                    let found = field.text.get(start..end).unwrap_or_default();
                    return Some(format!(
                        "keyword {:?} in {}: {:?}",
                        keyword.original, field.label, found
                    ));
                }
            }
        }
        None
    }
}

impl Keyword {
    /// Compiles a configured keyword; `None` when it has no letters or digits at all.
    fn compile(original: &str) -> Option<Keyword> {
        let exact = is_acronym(original);
        let terms: Vec<Term> = tokenize(original, false)
            .into_iter()
            .map(|t| Term {
                text: if exact { t.folded } else { t.stem },
                exact,
            })
            .collect();
        (!terms.is_empty()).then(|| Keyword {
            original: original.to_string(),
            terms,
        })
    }

    /// False when a word of the phrase is absent from the field (so it cannot match there).
    fn may_occur_in(&self, words: &HashSet<String>) -> bool {
        self.terms.iter().all(|t| words.contains(&t.text))
    }

    /// The byte span of the first place the phrase occurs in `tokens`.
    fn find_in(&self, tokens: &[Token]) -> Option<(usize, usize)> {
        let n = self.terms.len();
        tokens.windows(n).find_map(|window| {
            let hit = window
                .iter()
                .zip(&self.terms)
                .all(|(token, term)| token.matches(term));
            let first = window.first()?;
            let last = window.last()?;
            hit.then_some((first.start, last.end))
        })
    }
}

impl Token {
    /// A term matches a token's stem, or for exact terms (acronyms) its whole folded form.
    fn matches(&self, term: &Term) -> bool {
        if term.exact {
            self.folded == term.text
        } else {
            self.stem == term.text
        }
    }
}

/// The subject, the text and each file name, tokenised.
fn fields_of<'a>(input: &RoutingInput<'a>) -> Vec<Field<'a>> {
    let mut fields = Vec::new();
    let mut push = |label: String, text: &'a str, camel: bool| {
        let text = truncate(text, MAX_FIELD_BYTES);
        let tokens = tokenize(text, camel);
        let words = tokens
            .iter()
            .flat_map(|t| [t.stem.clone(), t.folded.clone()])
            .collect();
        fields.push(Field {
            label,
            text,
            tokens,
            words,
        });
    };
    if let Some(subject) = input.subject {
        push("subject".into(), subject, false);
    }
    if let Some(text) = input.text {
        push("text".into(), text, false);
    }
    for name in &input.file_names {
        push(format!("file name {name:?}"), name, true);
    }
    fields
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// The address inside `Name <addr>`, trimmed and lowercased.
fn bare_address(raw: &str) -> String {
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => raw.get(open + 1..close).unwrap_or(raw),
        _ => raw,
    };
    inner.trim().to_lowercase()
}

/// Two or more capitals mark an acronym (`USC`, `VIN`, `CEPiK`): matched as a whole token only.
fn is_acronym(keyword: &str) -> bool {
    keyword.chars().filter(|c| c.is_uppercase()).count() >= 2
        && !keyword.chars().any(char::is_whitespace)
}

/// Folds Polish diacritics to ASCII and lowercases: `Dowód Źródło` → `dowod zrodlo`.
pub fn fold(text: &str) -> String {
    text.chars().flat_map(fold_char).collect()
}

fn fold_char(c: char) -> impl Iterator<Item = char> {
    let base = match c {
        'ą' | 'Ą' => 'a',
        'ć' | 'Ć' => 'c',
        'ę' | 'Ę' => 'e',
        'ł' | 'Ł' => 'l',
        'ń' | 'Ń' => 'n',
        'ó' | 'Ó' => 'o',
        'ś' | 'Ś' => 's',
        'ź' | 'Ź' | 'ż' | 'Ż' => 'z',
        other => other,
    };
    base.to_lowercase()
}

/// Splits text into tokens of letters and digits, folded and stemmed, with their byte spans.
/// With `split_camel` (file names), a lower-case letter followed by a capital also splits
/// (`WniosekDowodOsobisty.pdf`); subjects, texts and keywords keep `CEPiK` whole.
fn tokenize(text: &str, split_camel: bool) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        let camel = split_camel && previous.is_lowercase() && c.is_uppercase();
        previous = c;
        if camel {
            if let Some((start, folded)) = current.take() {
                tokens.push(Token::new(folded, start, i));
            }
        }
        if c.is_alphanumeric() {
            current
                .get_or_insert_with(|| (i, String::new()))
                .1
                .extend(fold_char(c));
        } else if let Some((start, folded)) = current.take() {
            tokens.push(Token::new(folded, start, i));
        }
    }
    if let Some((start, folded)) = current {
        tokens.push(Token::new(folded, start, text.len()));
    }
    tokens
}

impl Token {
    fn new(folded: String, start: usize, end: usize) -> Token {
        Token {
            stem: stem(&folded),
            folded,
            start,
            end,
        }
    }
}

/// Light Polish stemmer over a folded token: strips the longest known ending when at least
/// [`MIN_STEM`] letters remain, undoes the locative alternations `dz`/`c` before `-ie`
/// (`dowodzie` → `dowod`, `pobycie` → `pobyt`) and the fleeting `e` of `-ek` (`wniosek` →
/// `wniosk`, like `wniosku`). Tokens with digits are left as they are.
pub fn stem(folded: &str) -> String {
    if folded.chars().any(|c| c.is_ascii_digit()) {
        return folded.to_string();
    }
    let letters = folded.chars().count();
    let ending = ENDINGS
        .iter()
        .find(|e| folded.ends_with(*e) && letters >= e.len() + MIN_STEM);
    let Some(ending) = ending else {
        return fleeting_e(folded);
    };
    let base = folded.get(..folded.len() - ending.len()).unwrap_or(folded);
    if *ending == "ie" {
        if let Some(b) = base.strip_suffix("dz") {
            return format!("{b}d");
        }
        if let Some(b) = base.strip_suffix('c') {
            return format!("{b}t");
        }
    }
    base.to_string()
}

/// `wniosek` → `wniosk`, `meldunek` → `meldunk`: the nominative's fleeting `e` dropped.
fn fleeting_e(word: &str) -> String {
    match word.strip_suffix("ek") {
        Some(b) if b.chars().count() >= MIN_STEM => format!("{b}k"),
        _ => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, REFERENCE_CONFIG};

    fn router() -> Router {
        let config = Config::from_toml("defaults", REFERENCE_CONFIG, Vec::new()).unwrap();
        Router::new(&config.routing)
    }

    fn by_subject(subject: &str) -> Decision {
        router().route(&RoutingInput {
            subject: Some(subject),
            ..Default::default()
        })
    }

    fn department_for(subject: &str) -> String {
        by_subject(subject).department
    }

    #[test]
    fn fold_removes_polish_diacritics_and_case() {
        assert_eq!(
            fold("Zażółć GĘŚLĄ jaźń Łódź Ńą"),
            "zazolc gesla jazn lodz na"
        );
    }

    #[test]
    fn dowod_matches_its_inflected_forms_in_any_case() {
        for text in [
            "dowodu",
            "dowodem",
            "dowody",
            "Dowodu",
            "DOWÓD",
            "o dowodzie",
        ] {
            let d = by_subject(&format!("Wniosek w sprawie {text}"));
            assert_eq!(d.department, "SO", "{text}");
        }
    }

    #[test]
    fn dowod_does_not_match_the_verb_dowodzic() {
        assert_eq!(department_for("Nie muszę niczego dowodzić"), "BP");
    }

    #[test]
    fn pojazd_and_samochod_match_their_genitives() {
        assert_eq!(department_for("Sprzedaż pojazdu"), "KM");
        assert_eq!(department_for("Lista pojazdów"), "KM");
        assert_eq!(department_for("Kupno samochodu"), "KM");
    }

    #[test]
    fn phrases_match_as_consecutive_inflected_words() {
        assert_eq!(department_for("Utrata prawa jazdy"), "KM");
        assert_eq!(department_for("Odpis aktu urodzenia syna"), "USC");
        assert_eq!(department_for("prawa, jazdy"), "KM");
        assert_eq!(department_for("prawa do jazdy"), "BP");
    }

    #[test]
    fn slub_and_zameldowanie_match_their_genitives() {
        assert_eq!(department_for("Termin ślubu"), "USC");
        assert_eq!(department_for("Potwierdzenie zameldowania"), "SO");
    }

    #[test]
    fn decision_names_the_keyword_the_field_and_the_text_found() {
        let d = by_subject("Zgubiłem Dowodu osobistego kopia");
        assert_eq!(d.rule, "slowa-spraw-obywatelskich");
        assert_eq!(
            d.matched.as_deref(),
            Some("keyword \"dowód osobisty\" in subject: \"Dowodu osobistego\"")
        );
    }

    #[test]
    fn a_date_of_birth_in_an_id_card_application_does_not_send_it_to_usc() {
        assert_eq!(
            department_for("Wniosek o dowód osobisty, data urodzenia 1990"),
            "SO"
        );
    }

    #[test]
    fn acronyms_match_whole_tokens_only() {
        assert_eq!(department_for("Numer VIN pojazdu"), "KM");
        assert_eq!(department_for("sprawa w USC"), "USC");
        assert_eq!(department_for("Nadanie numeru PESEL"), "SO");
        assert_eq!(department_for("vinyl, muscle, uście"), "BP");
    }

    #[test]
    fn earlier_address_rule_wins_over_keywords() {
        let recipients = vec!["Wydział SO <SO@um.gliwice.pl>".to_string()];
        let d = router().route(&RoutingInput {
            recipients: &recipients,
            subject: Some("Rejestracja pojazdu"),
            ..Default::default()
        });
        assert_eq!(d.department, "SO");
        assert_eq!(d.rule, "adres-spraw-obywatelskich");
        assert_eq!(d.matched.as_deref(), Some("to: so@um.gliwice.pl"));
    }

    #[test]
    fn dowod_rejestracyjny_goes_to_vehicles_by_rule_order() {
        assert_eq!(department_for("Dowód rejestracyjny do odbioru"), "KM");
        assert_eq!(department_for("Odbiór dowodu osobistego"), "SO");
    }

    #[test]
    fn sender_rules_match_an_address_or_a_domain() {
        let mut config = Config::from_toml("defaults", REFERENCE_CONFIG, Vec::new())
            .unwrap()
            .routing;
        config.rules.insert(
            0,
            RuleConfig {
                name: "policja".into(),
                department: "SO".into(),
                to: vec![],
                sender: vec!["@policja.gov.pl".into(), "jan@example.pl".into()],
                keywords: vec![],
                deadline_months: None,
                deadline_days: None,
            },
        );
        let router = Router::new(&config);
        let route = |sender| {
            router.route(&RoutingInput {
                sender: Some(sender),
                ..Default::default()
            })
        };
        let d = route("KWP <Dyzurny@Policja.gov.pl>");
        assert_eq!((d.rule.as_str(), d.department.as_str()), ("policja", "SO"));
        assert_eq!(d.matched.as_deref(), Some("sender: dyzurny@policja.gov.pl"));
        assert_eq!(route("jan@example.pl").rule, "policja");
        assert_eq!(route("jan@example.pl.evil.com").rule, "default");
        assert_eq!(route("x@notpolicja.gov.pl.com").rule, "default");
    }

    #[test]
    fn keywords_are_found_in_file_names() {
        let d = router().route(&RoutingInput {
            subject: Some("Wniosek"),
            text: Some("W załączniku."),
            file_names: vec!["skan_aktu_zgonu.pdf"],
            ..Default::default()
        });
        assert_eq!(d.department, "USC");
        assert_eq!(
            d.matched.as_deref(),
            Some("keyword \"akt zgonu\" in file name \"skan_aktu_zgonu.pdf\": \"aktu_zgonu\"")
        );
    }

    #[test]
    fn camel_case_file_names_are_split_into_words() {
        let d = router().route(&RoutingInput {
            file_names: vec!["WniosekDowodOsobisty.pdf"],
            ..Default::default()
        });
        assert_eq!(d.department, "SO");
        assert_eq!(department_for("Zgłoszenie do CEPiK"), "KM");
        assert_eq!(department_for("zgłoszenie do cepik"), "KM");
    }

    #[test]
    fn keywords_are_found_in_the_text() {
        let d = router().route(&RoutingInput {
            subject: Some("Pismo"),
            text: Some("Proszę o wymeldowanie z pobytu stałego."),
            ..Default::default()
        });
        assert_eq!(d.department, "SO");
    }

    #[test]
    fn nothing_matching_goes_to_the_intake_office() {
        let d = router().route(&RoutingInput {
            recipients: &["podawcza@um.gliwice.pl".to_string()],
            sender: Some("jan@example.pl"),
            subject: Some("Zapytanie"),
            text: Some("Dzień dobry, w załączeniu pismo."),
            file_names: vec!["pismo.pdf"],
        });
        assert_eq!(
            d,
            Decision {
                department: "BP".into(),
                rule: "default".into(),
                matched: None
            }
        );
    }

    #[test]
    fn stemmer_strips_the_longest_ending_but_keeps_three_letters() {
        assert_eq!(stem("dowodami"), "dowod");
        assert_eq!(stem("zameldowaniem"), "zameldowan");
        assert_eq!(stem("rejestracyjnego"), "rejestracyjn");
        assert_eq!(stem("aktu"), "akt");
        assert_eq!(stem("ulu"), "ulu");
        assert_eq!(stem("wniosku"), stem("wniosek"));
        assert_eq!(stem("2020r"), "2020r");
    }

    #[test]
    fn long_text_is_routed_quickly() {
        let router = router();
        let text = "Lorem ipsum dolor sit amet, consectetur. ".repeat(200);
        let started = std::time::Instant::now();
        for _ in 0..300 {
            let d = router.route(&RoutingInput {
                subject: Some("Pismo ogólne"),
                text: Some(&text),
                ..Default::default()
            });
            assert_eq!(d.department, "BP");
        }
        println!("300 messages of 8 KB: {:?}", started.elapsed());
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }
}
