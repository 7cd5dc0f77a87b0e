//! Canonicalization: Canonical XML 1.0 (W3C REC-xml-c14n-20010315), Canonical XML 1.1
//! (REC-xml-c14n11-20080502) and Exclusive XML Canonicalization 1.0 (REC-xml-exc-c14n-20020718),
//! with and without comments, over a document subset given as a [`NodeFilter`].
//!
//! The parser (roxmltree) has already done what C14N §1.1 asks of the input: line ends normalised
//! to `#xA`, attribute values normalised, character and entity references replaced, CDATA
//! sections turned into text; DTDs are refused before we get here. What remains is done here:
//! namespace-node rendering, attribute ordering, escaping, and the document-level newlines.
//!
//! Not implemented: the `xml:base` fix-up of Canonical XML 1.1 §2.4 (an inherited `xml:base`
//! is simply not carried into a 1.1 subtree; TODO issue 3), and node-sets holding namespace or
//! attribute nodes without their element (only general XPath produces those; we refuse it).

use super::nodeset::NodeFilter;
use roxmltree::{Document, Node, NodeType};

/// The XML namespace (`xml:` prefix).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A canonicalization method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Canonical XML 1.0.
    Inclusive10,
    /// Canonical XML 1.1.
    Inclusive11,
    /// Exclusive XML Canonicalization 1.0.
    Exclusive,
}

/// A canonicalization algorithm with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Which form.
    pub method: Method,
    /// Whether comment nodes are kept.
    pub with_comments: bool,
    /// Exclusive C14N `InclusiveNamespaces PrefixList` (`#default` for the default namespace).
    pub inclusive_prefixes: Vec<String>,
}

impl Params {
    /// The parameters named by an algorithm URI (XML-DSig §6.5), or `None` when unknown.
    pub fn from_uri(uri: &str) -> Option<Params> {
        let (method, with_comments) = match uri {
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315" => (Method::Inclusive10, false),
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments" => {
                (Method::Inclusive10, true)
            }
            "http://www.w3.org/2006/12/xml-c14n11" => (Method::Inclusive11, false),
            "http://www.w3.org/2006/12/xml-c14n11#WithComments" => (Method::Inclusive11, true),
            "http://www.w3.org/2001/10/xml-exc-c14n#" => (Method::Exclusive, false),
            "http://www.w3.org/2001/10/xml-exc-c14n#WithComments" => (Method::Exclusive, true),
            _ => return None,
        };
        Some(Params {
            method,
            with_comments,
            inclusive_prefixes: Vec::new(),
        })
    }
}

/// Canonicalizes the nodes of `doc` selected by `filter`.
pub fn canonicalize(doc: &Document, filter: &dyn NodeFilter, params: &Params) -> Vec<u8> {
    let mut c = Canonicalizer {
        input: doc.input_text(),
        filter,
        params,
        out: Vec::with_capacity(doc.input_text().len()),
        used: Vec::new(),
        attrs: Vec::new(),
    };
    c.document(doc.root());
    c.out
}

/// Namespace bindings (prefix, "" for the default; URI) of the nearest output ancestor: its
/// namespace nodes in the node-set (inclusive forms) or all bindings rendered so far (exclusive).
type Bindings<'a> = Vec<(&'a str, &'a str)>;

/// An attribute to render: namespace URI, local name, qualified name, value.
type Attr<'a> = (&'a str, &'a str, &'a str, &'a str);

struct Canonicalizer<'a, 'f> {
    input: &'a str,
    filter: &'f dyn NodeFilter,
    params: &'f Params,
    out: Vec<u8>,
    /// Scratch lists reused from element to element: they are filled and drained before the
    /// children are visited, so one allocation serves the whole document.
    used: Vec<&'a str>,
    attrs: Vec<Attr<'a>>,
}

/// String equality that first compares addresses: roxmltree stores each distinct namespace
/// once, so equal prefixes and URIs of one document are usually the same slice.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

fn lookup<'a>(bindings: &Bindings<'a>, prefix: &str) -> Option<&'a str> {
    bindings
        .iter()
        .find(|(p, _)| same(p, prefix))
        .map(|(_, uri)| *uri)
}

impl<'a> Canonicalizer<'a, '_> {
    /// C14N 1.0 §2.1: comments and PIs outside the document element are separated from it by
    /// a line feed (before the element for nodes after it, after the node for nodes before it).
    fn document(&mut self, root: Node<'a, '_>) {
        let mut after_element = false;
        for child in root.children() {
            match child.node_type() {
                NodeType::Element => {
                    self.node(child, &Vec::new());
                    after_element = true;
                }
                NodeType::Comment | NodeType::PI if self.keeps(child) => {
                    if after_element {
                        self.out.push(b'\n');
                    }
                    self.leaf(child);
                    if !after_element {
                        self.out.push(b'\n');
                    }
                }
                _ => {}
            }
        }
    }

    fn keeps(&self, node: Node) -> bool {
        if node.is_comment() && !self.params.with_comments {
            return false;
        }
        self.filter.node(node)
    }

    fn node(&mut self, node: Node<'a, '_>, ctx: &Bindings<'a>) {
        match node.node_type() {
            NodeType::Element => self.element(node, ctx),
            NodeType::Text | NodeType::Comment | NodeType::PI => {
                if self.keeps(node) {
                    self.leaf(node);
                }
            }
            NodeType::Root => {}
        }
    }

    fn leaf(&mut self, node: Node) {
        match node.node_type() {
            NodeType::Text => escape_text(&mut self.out, node.text().unwrap_or("")),
            NodeType::Comment => {
                self.out.extend_from_slice(b"<!--");
                self.out
                    .extend_from_slice(node.text().unwrap_or("").as_bytes());
                self.out.extend_from_slice(b"-->");
            }
            NodeType::PI => {
                if let Some(pi) = node.pi() {
                    self.out.extend_from_slice(b"<?");
                    self.out.extend_from_slice(pi.target.as_bytes());
                    if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                        self.out.push(b' ');
                        self.out.extend_from_slice(value.as_bytes());
                    }
                    self.out.extend_from_slice(b"?>");
                }
            }
            NodeType::Element | NodeType::Root => {}
        }
    }

    fn element(&mut self, node: Node<'a, '_>, ctx: &Bindings<'a>) {
        if !self.filter.node(node) {
            // A document subset may include descendants of an excluded element; they keep
            // the nearest *output* ancestor's bindings (C14N 1.0 §2.3).
            for child in node.children() {
                self.node(child, ctx);
            }
            return;
        }
        let qname = element_qname(self.input, node);
        self.out.push(b'<');
        self.out.extend_from_slice(qname.as_bytes());
        let changed = match self.params.method {
            Method::Exclusive => self.exclusive_namespaces(node, qname, ctx),
            Method::Inclusive10 | Method::Inclusive11 => Some(self.inclusive_namespaces(node, ctx)),
        };
        self.attributes(node);
        self.out.push(b'>');
        let next = changed.as_ref().unwrap_or(ctx);
        for child in node.children() {
            self.node(child, next);
        }
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(qname.as_bytes());
        self.out.push(b'>');
    }

    /// The element's namespace nodes in the node-set, without the implicit `xml` binding.
    fn own_namespaces(&self, node: Node<'a, '_>) -> Bindings<'a> {
        let mut own: Bindings<'a> = Vec::new();
        for ns in node.namespaces() {
            let prefix = ns.name().unwrap_or("");
            if prefix == "xml" || ns.uri().is_empty() {
                continue;
            }
            if self.filter.namespace(node, prefix, ns.uri()) {
                own.push((prefix, ns.uri()));
            }
        }
        own
    }

    /// C14N 1.0 §2.3 / 1.1 §2.3: a namespace node is rendered unless the nearest output ancestor
    /// has the same one in the node-set; `xmlns=""` when the default namespace goes away.
    fn inclusive_namespaces(&mut self, node: Node<'a, '_>, ctx: &Bindings<'a>) -> Bindings<'a> {
        let mut own = self.own_namespaces(node);
        own.sort_by(|a, b| a.0.cmp(b.0));
        let mut rendered: Bindings<'a> = Vec::new();
        if lookup(&own, "").is_none() && lookup(ctx, "").is_some_and(|u| !u.is_empty()) {
            rendered.push(("", ""));
        }
        for (prefix, uri) in &own {
            if lookup(ctx, prefix) != Some(uri) {
                rendered.push((prefix, uri));
            }
        }
        self.write_namespaces(&rendered);
        own
    }

    /// Exclusive C14N §3: a namespace node is rendered when visibly utilized by the element
    /// (or named in the InclusiveNamespaces PrefixList) unless the nearest output ancestor that
    /// utilizes the same prefix has the same namespace node in the node-set. Returns the
    /// bindings for the children, or `None` when they are those of `ctx` (the common case:
    /// most elements render no namespace, and copying the bindings for each cost a third of
    /// a 100 KB verification).
    fn exclusive_namespaces(
        &mut self,
        node: Node<'a, '_>,
        qname: &'a str,
        ctx: &Bindings<'a>,
    ) -> Option<Bindings<'a>> {
        let mut used = std::mem::take(&mut self.used);
        used.clear();
        used.push(prefix_of(qname));
        for attr in node.attributes() {
            let p = prefix_of(attribute_qname(self.input, &attr));
            if !p.is_empty() && p != "xml" && self.filter.attribute(node, &attr) {
                used.push(p);
            }
        }
        for p in &self.params.inclusive_prefixes {
            let p = if p == "#default" { "" } else { p.as_str() };
            if let Some(ns) = node.namespaces().find(|ns| ns.name().unwrap_or("") == p) {
                used.push(ns.name().unwrap_or(""));
            } else if p.is_empty() {
                used.push("");
            }
        }
        used.sort_unstable();
        used.dedup();
        let mut next: Option<Bindings<'a>> = None;
        for &prefix in &used {
            let mine = self.own_namespace(node, prefix).unwrap_or("");
            let before = lookup(ctx, prefix).unwrap_or("");
            if same(mine, before) {
                continue;
            }
            if !mine.is_empty() || prefix.is_empty() {
                self.write_namespace(prefix, mine);
            }
            let next = next.get_or_insert_with(|| ctx.clone());
            next.retain(|(p, _)| !same(p, prefix));
            next.push((prefix, mine));
        }
        self.used = used;
        next
    }

    /// The URI of the element's namespace node `prefix` when it is in the node-set.
    fn own_namespace(&self, node: Node<'a, '_>, prefix: &str) -> Option<&'a str> {
        let ns = node
            .namespaces()
            .find(|ns| same(ns.name().unwrap_or(""), prefix))?;
        let uri = ns.uri();
        let usable = prefix != "xml" && !uri.is_empty() && self.filter.namespace(node, prefix, uri);
        usable.then_some(uri)
    }

    fn write_namespaces(&mut self, rendered: &Bindings) {
        for (prefix, uri) in rendered {
            self.write_namespace(prefix, uri);
        }
    }

    fn write_namespace(&mut self, prefix: &str, uri: &str) {
        if prefix.is_empty() {
            self.out.extend_from_slice(b" xmlns=\"");
        } else {
            self.out.extend_from_slice(b" xmlns:");
            self.out.extend_from_slice(prefix.as_bytes());
            self.out.extend_from_slice(b"=\"");
        }
        escape_attribute(&mut self.out, uri);
        self.out.push(b'"');
    }

    /// C14N §2.2: attributes sorted by namespace URI then local name; for document subsets the
    /// inclusive forms add the `xml:` attributes inherited from omitted ancestors (§2.4; 1.1
    /// §2.4 restricts this to `xml:lang` and `xml:space`).
    fn attributes(&mut self, node: Node<'a, '_>) {
        let mut attrs = std::mem::take(&mut self.attrs);
        attrs.clear();
        for attr in node.attributes() {
            if self.filter.attribute(node, &attr) {
                let q = attribute_qname(self.input, &attr);
                attrs.push((attr.namespace().unwrap_or(""), attr.name(), q, attr.value()));
            }
        }
        self.inherit_xml_attributes(node, &mut attrs);
        if attrs.len() > 1 {
            attrs.sort_unstable_by(|a, b| compare_names(a.0, b.0).then(compare_names(a.1, b.1)));
        }
        for &(_, _, qname, value) in &attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(qname.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attribute(&mut self.out, value);
            self.out.push(b'"');
        }
        self.attrs = attrs;
    }

    fn inherit_xml_attributes(&self, node: Node<'a, '_>, attrs: &mut Vec<Attr<'a>>) {
        let wanted: &[&str] = match self.params.method {
            Method::Exclusive => return,
            Method::Inclusive10 => &["lang", "space", "base", "id"],
            Method::Inclusive11 => &["lang", "space"],
        };
        let parent_in_set = node
            .parent()
            .is_some_and(|p| p.is_element() && self.filter.node(p));
        if parent_in_set {
            return;
        }
        for ancestor in node.ancestors().skip(1) {
            for attr in ancestor.attributes() {
                let name = attr.name();
                let is_xml = attr.namespace() == Some(XML_NS);
                let present = attrs.iter().any(|a| a.0 == XML_NS && a.1 == name);
                if is_xml && wanted.contains(&name) && !present {
                    let q = attribute_qname_static(name);
                    attrs.push((XML_NS, name, q, attr.value()));
                }
            }
        }
    }
}

/// Byte order of two names (C14N §2.2 sorts by code point, which UTF-8 byte order is), without
/// a `memcmp` call: attribute names and namespace URIs are short, and are often the very same
/// slice of the parsed document.
fn compare_names(a: &str, b: &str) -> std::cmp::Ordering {
    if same(a, b) {
        return std::cmp::Ordering::Equal;
    }
    a.bytes().cmp(b.bytes())
}

/// The `xml:` qualified name of an inherited attribute (its prefix is fixed by Namespaces §3).
fn attribute_qname_static(name: &str) -> &'static str {
    match name {
        "lang" => "xml:lang",
        "space" => "xml:space",
        "base" => "xml:base",
        _ => "xml:id",
    }
}

/// The qualified name of an element as written in the input (`<prefix:local ...`).
pub fn element_qname<'a>(input: &'a str, node: Node) -> &'a str {
    let start = node.range().start.saturating_add(1);
    let rest = input.get(start..).unwrap_or("");
    let end = rest
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or("")
}

/// The qualified name of an attribute as written in the input.
pub fn attribute_qname<'a>(input: &'a str, attr: &roxmltree::Attribute) -> &'a str {
    input.get(attr.range_qname()).unwrap_or("")
}

/// The prefix of a qualified name ("" when unprefixed).
pub fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map(|(p, _)| p).unwrap_or("")
}

/// C14N §2.3 text escaping: `&`, `<`, `>` and carriage return.
fn escape_text(out: &mut Vec<u8>, text: &str) {
    escape(out, text, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// C14N §2.3 attribute escaping: `&`, `<`, `"`, tab, line feed, carriage return.
fn escape_attribute(out: &mut Vec<u8>, text: &str) {
    escape(out, text, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Copies `text`, replacing the bytes `table` maps, in runs (most text needs no escaping).
fn escape(out: &mut Vec<u8>, text: &str, table: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(replacement) = table(b) {
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            out.extend_from_slice(replacement);
            start = i + 1;
        }
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::xml::nodeset::NodeSet;

    fn c14n(xml: &str, method: Method, with_comments: bool) -> String {
        let doc = Document::parse(xml).unwrap();
        let params = Params {
            method,
            with_comments,
            inclusive_prefixes: Vec::new(),
        };
        String::from_utf8(canonicalize(&doc, &NodeSet::whole(&doc), &params)).unwrap()
    }

    fn c14n_of(xml: &str, local: &str, method: Method) -> String {
        let doc = Document::parse(xml).unwrap();
        let el = doc
            .descendants()
            .find(|n| n.tag_name().name() == local)
            .unwrap();
        let params = Params {
            method,
            with_comments: false,
            inclusive_prefixes: Vec::new(),
        };
        let set = NodeSet::subtree(&doc, el);
        String::from_utf8(canonicalize(&doc, &set, &params)).unwrap()
    }

    #[test]
    fn escapes_text_and_attributes_as_the_recommendation_says() {
        let out = c14n(
            "<a b=\"&lt;&amp;&quot;&#9;&#10;&#13;>\">&lt;&amp;&gt;&#13;\"</a>",
            Method::Inclusive10,
            false,
        );
        assert_eq!(
            out,
            "<a b=\"&lt;&amp;&quot;&#x9;&#xA;&#xD;>\">&lt;&amp;&gt;&#xD;\"</a>"
        );
    }

    #[test]
    fn sorts_attributes_by_namespace_uri_then_local_name() {
        let out = c14n(
            r#"<e xmlns:b="urn:b" xmlns:a="urn:a" b:x="1" z="2" a:y="3" a="4"/>"#,
            Method::Inclusive10,
            false,
        );
        assert_eq!(
            out,
            r#"<e xmlns:a="urn:a" xmlns:b="urn:b" a="4" z="2" a:y="3" b:x="1"></e>"#
        );
    }

    #[test]
    fn puts_newlines_around_nodes_outside_the_document_element() {
        let xml = "<?xml version=\"1.0\"?>\n<?pi  data?><!--c1--><a/><!--c2--><?end?>";
        assert_eq!(
            c14n(xml, Method::Inclusive10, true),
            "<?pi data?>\n<!--c1-->\n<a></a>\n<!--c2-->\n<?end?>"
        );
        assert_eq!(
            c14n(xml, Method::Inclusive10, false),
            "<?pi data?>\n<a></a>\n<?end?>"
        );
    }

    #[test]
    fn undeclares_the_default_namespace_only_when_it_was_in_scope() {
        let xml = r#"<a xmlns="urn:x"><b xmlns=""><c/></b></a>"#;
        assert_eq!(
            c14n(xml, Method::Inclusive10, false),
            r#"<a xmlns="urn:x"><b xmlns=""><c></c></b></a>"#
        );
        assert_eq!(
            c14n(r#"<a><b xmlns=""/></a>"#, Method::Inclusive10, false),
            "<a><b></b></a>"
        );
    }

    #[test]
    fn a_subtree_carries_inherited_namespaces_and_xml_attributes() {
        let xml = r#"<r xmlns="urn:d" xmlns:p="urn:p" xml:lang="pl" xml:id="r1"><s/></r>"#;
        assert_eq!(
            c14n_of(xml, "s", Method::Inclusive10),
            r#"<s xmlns="urn:d" xmlns:p="urn:p" xml:id="r1" xml:lang="pl"></s>"#
        );
        assert_eq!(
            c14n_of(xml, "s", Method::Inclusive11),
            r#"<s xmlns="urn:d" xmlns:p="urn:p" xml:lang="pl"></s>"#
        );
        assert_eq!(
            c14n_of(xml, "s", Method::Exclusive),
            r#"<s xmlns="urn:d"></s>"#
        );
    }

    #[test]
    fn exclusive_form_renders_prefixes_where_first_used() {
        let xml = r#"<r xmlns:p="urn:p" xmlns:q="urn:q"><s><p:t q:a="1"/></s></r>"#;
        assert_eq!(
            c14n_of(xml, "s", Method::Exclusive),
            r#"<s><p:t xmlns:p="urn:p" xmlns:q="urn:q" q:a="1"></p:t></s>"#
        );
    }
}
