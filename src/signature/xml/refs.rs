//! Dereferencing `Reference/@URI` ourselves (W3C XML-DSig §4.4.3.2, §4.4.3.3): same-document
//! references, XPointer `#xpointer(/)` and `#xpointer(id('x'))`, and detached files through a
//! resolver. IDs are found in `Id`, `ID`, `id` and `xml:id` attributes, and an ID carried by
//! more than one element is refused: that is how signature-wrapping attacks make a verifier
//! check one element while the application reads another.

use super::c14n::XML_NS;
use super::nodeset::NodeSet;
use roxmltree::{Document, Node};
use std::collections::HashMap;
use thiserror::Error;

/// What a reference points at, before its transforms.
pub enum Dereferenced<'a, 'i> {
    /// A node-set of this document, and the element it is rooted at (`None` for the document).
    Nodes(NodeSet, Option<Node<'a, 'i>>),
    /// Octets of a detached object, and its name.
    Octets(Vec<u8>, String),
}

/// Why a reference could not be dereferenced.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RefError {
    /// No element carries the ID.
    #[error("referenced id not found: {0}")]
    IdNotFound(String),
    /// Several elements carry the ID (signature wrapping).
    #[error("referenced id is ambiguous ({count} elements carry it): {id}")]
    AmbiguousId {
        /// The ID.
        id: String,
        /// How many elements carry it.
        count: usize,
    },
    /// A detached object was not supplied.
    #[error("detached data not found: {0}")]
    DetachedNotFound(String),
    /// A URI form we do not dereference (other XPointer schemes, remote URLs).
    #[error("unsupported reference uri: {0}")]
    Unsupported(String),
}

/// Every ID-typed attribute of a document, by value.
pub struct IdIndex<'a, 'i> {
    ids: HashMap<&'a str, Vec<Node<'a, 'i>>>,
}

impl<'a, 'i> IdIndex<'a, 'i> {
    /// Indexes `Id`, `ID`, `id` (no namespace) and `xml:id` attributes.
    pub fn new(doc: &'a Document<'i>) -> Self {
        let mut ids: HashMap<&'a str, Vec<Node<'a, 'i>>> = HashMap::new();
        for node in doc.descendants().filter(|n| n.is_element()) {
            for attr in node.attributes() {
                let id_like = match attr.namespace() {
                    None => matches!(attr.name(), "Id" | "ID" | "id"),
                    Some(ns) => ns == XML_NS && attr.name() == "id",
                };
                if id_like {
                    let list = ids.entry(attr.value()).or_default();
                    if !list.iter().any(|n| n.id() == node.id()) {
                        list.push(node);
                    }
                }
            }
        }
        IdIndex { ids }
    }

    /// Every ID value with the number of elements carrying it.
    pub fn counts(&self) -> impl Iterator<Item = (&'a str, usize)> + '_ {
        self.ids.iter().map(|(id, nodes)| (*id, nodes.len()))
    }

    /// Every element carrying `id`.
    pub fn all(&self, id: &str) -> Vec<Node<'a, 'i>> {
        self.ids.get(id).cloned().unwrap_or_default()
    }

    /// The one element carrying `id`, or an error when none or several do.
    pub fn unique(&self, id: &str) -> Result<Node<'a, 'i>, RefError> {
        match self.ids.get(id).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            Some(many) if many.len() > 1 => Err(RefError::AmbiguousId {
                id: id.to_string(),
                count: many.len(),
            }),
            _ => Err(RefError::IdNotFound(id.to_string())),
        }
    }
}

/// Resolves a detached object by the name a reference gives.
pub type Resolver<'r> = &'r dyn Fn(&str) -> Option<Vec<u8>>;

/// Dereferences a `Reference/@URI` (absent = `None`: data supplied by the application, asked
/// of the resolver under the empty name).
pub fn dereference<'a, 'i>(
    doc: &'a Document<'i>,
    ids: &IdIndex<'a, 'i>,
    uri: Option<&str>,
    detached: Resolver,
) -> Result<Dereferenced<'a, 'i>, RefError> {
    let Some(uri) = uri else {
        return detached_object("", detached);
    };
    let Some(fragment) = uri.strip_prefix('#') else {
        if uri.is_empty() {
            // §4.4.3.3: the document without comments.
            let mut set = NodeSet::whole(doc);
            set.remove_comments(doc);
            return Ok(Dereferenced::Nodes(set, None));
        }
        return detached_object(uri, detached);
    };
    if fragment == "xpointer(/)" {
        return Ok(Dereferenced::Nodes(NodeSet::whole(doc), None));
    }
    if let Some(id) = xpointer_id(fragment) {
        let node = ids.unique(id)?;
        return Ok(Dereferenced::Nodes(NodeSet::subtree(doc, node), Some(node)));
    }
    if fragment.starts_with("xpointer(") {
        return Err(RefError::Unsupported(uri.to_string()));
    }
    let node = ids.unique(fragment)?;
    let mut set = NodeSet::subtree(doc, node);
    set.remove_comments_under(node);
    Ok(Dereferenced::Nodes(set, Some(node)))
}

/// `xpointer(id('x'))` or `xpointer(id("x"))` → `x`.
fn xpointer_id(fragment: &str) -> Option<&str> {
    let inner = fragment.strip_prefix("xpointer(id(")?.strip_suffix("))")?;
    let inner = inner.trim();
    inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
}

fn detached_object<'a, 'i>(
    uri: &str,
    detached: Resolver,
) -> Result<Dereferenced<'a, 'i>, RefError> {
    if uri.contains("://") {
        return Err(RefError::Unsupported(uri.to_string()));
    }
    let name = percent_decode(uri);
    let name = name.strip_prefix("./").unwrap_or(&name).to_string();
    let bytes = detached(&name)
        .or_else(|| detached(uri))
        .ok_or_else(|| RefError::DetachedNotFound(name.clone()))?;
    Ok(Dereferenced::Octets(bytes, name))
}

/// RFC 3986 §2.1 percent-decoding (invalid sequences kept as written; UTF-8 assumed).
pub fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&crate::encoding::percent_decode(s)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<Vec<u8>> {
        None
    }

    #[test]
    fn refuses_an_id_carried_by_two_elements() {
        let doc = Document::parse(r#"<r><a Id="x"/><b xml:id="x"/></r>"#).unwrap();
        let ids = IdIndex::new(&doc);
        let err = dereference(&doc, &ids, Some("#x"), &none).err();
        assert_eq!(
            err,
            Some(RefError::AmbiguousId {
                id: "x".into(),
                count: 2
            })
        );
    }

    #[test]
    fn resolves_xpointer_ids_and_bare_names_to_the_same_element() {
        let doc = Document::parse(r#"<r><a ID="x"><!--c--></a></r>"#).unwrap();
        let ids = IdIndex::new(&doc);
        for uri in ["#x", "#xpointer(id('x'))", "#xpointer(id(\"x\"))"] {
            let Ok(Dereferenced::Nodes(_, Some(node))) = dereference(&doc, &ids, Some(uri), &none)
            else {
                panic!("{uri} not resolved");
            };
            assert_eq!(node.tag_name().name(), "a");
        }
    }

    #[test]
    fn asks_the_resolver_for_a_percent_decoded_file_name() {
        let doc = Document::parse("<r/>").unwrap();
        let ids = IdIndex::new(&doc);
        let resolver = |name: &str| (name == "wniosek o dowód.pdf").then(|| b"pdf".to_vec());
        let got = dereference(&doc, &ids, Some("wniosek%20o%20dow%C3%B3d.pdf"), &resolver);
        assert!(matches!(got, Ok(Dereferenced::Octets(b, _)) if b == b"pdf"));
        assert!(matches!(
            dereference(&doc, &ids, Some("http://x/y"), &resolver),
            Err(RefError::Unsupported(_))
        ));
    }
}
