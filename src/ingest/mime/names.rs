//! Display names of documents. A name comes from the sender and is shown, never used as a path:
//! the original is kept (decoded) except for `/`, `\` and control characters, which become `_`
//! so that no later code or clerk's download can take it for a path or be fooled by a hidden
//! character. Later code that writes files must still choose its own file names.

/// The cleaned name, or `None` when nothing usable is left.
pub fn clean(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        None
    } else {
        Some(trimmed.to_string())
    }
}

/// The last component of an archive entry path (`dir/sub/a.pdf` → `a.pdf`).
pub fn entry_file_name(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .find(|c| !c.is_empty())
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_polish_names_as_given() {
        assert_eq!(
            clean("Wniosek – dowód osobisty.pdf").as_deref(),
            Some("Wniosek – dowód osobisty.pdf")
        );
    }

    #[test]
    fn replaces_path_separators_and_control_characters() {
        assert_eq!(
            clean("../../etc/passwd").as_deref(),
            Some(".._.._etc_passwd")
        );
        assert_eq!(clean("a\\b\r\n.pdf").as_deref(), Some("a_b__.pdf"));
    }

    #[test]
    fn gives_nothing_for_empty_or_dot_names() {
        assert_eq!(clean("  "), None);
        assert_eq!(clean(".."), None);
    }

    #[test]
    fn takes_the_file_name_of_an_entry_path() {
        assert_eq!(entry_file_name("skany/strona 1.jpg"), "strona 1.jpg");
        assert_eq!(entry_file_name("dir/"), "dir");
        assert_eq!(entry_file_name("a.pdf"), "a.pdf");
    }
}
