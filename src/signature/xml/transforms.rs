//! Reference transforms (W3C XML-DSig §6.6): canonicalization, base64, enveloped-signature,
//! XPath (the `not(ancestor-or-self::ds:Signature)` and `here()` forms) and XPath Filter 2.0
//! (W3C xmldsig-filter2 §3) over the subset of XPath in [`super::xpath`].
//!
//! The data between transforms is a node-set or octets (§4.4.3.2); after the last transform a
//! node-set is canonicalized with Canonical XML 1.0 without comments.

use super::c14n::{canonicalize, Params};
use super::nodeset::NodeSet;
use super::parse;
use super::refs::IdIndex;
use super::xpath;
use base64::Engine;
use roxmltree::{Document, Node};
use thiserror::Error;

/// XML-DSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const FILTER2_NS: &str = "http://www.w3.org/2002/06/xmldsig-filter2";
const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform (§6.6.4).
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const BASE64: &str = "http://www.w3.org/2000/09/xmldsig#base64";
const XPATH: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";
const FILTER2: &str = "http://www.w3.org/2002/06/xmldsig-filter2";

/// Why the transforms of a reference could not be applied.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransformError {
    /// An algorithm or expression we do not implement.
    #[error("unsupported transform: {0}")]
    Unsupported(String),
    /// The transform's input was unusable (bad base64, unparseable XML, wrong data type).
    #[error("transform failed: {0}")]
    Failed(String),
}

/// The data flowing between transforms.
pub enum Data {
    /// A node-set of the current document.
    Nodes(NodeSet),
    /// An octet stream.
    Octets(Vec<u8>),
}

/// The signature being verified and the document it lives in.
pub struct Env<'a, 'i> {
    /// The document.
    pub doc: &'a Document<'i>,
    /// The `ds:Signature` element (for enveloped-signature and `here()`).
    pub signature: Option<Node<'a, 'i>>,
    /// ID lookup in the document.
    pub ids: &'a IdIndex<'a, 'i>,
}

/// Most transforms accepted on one reference (each may re-parse its input).
pub const MAX_TRANSFORMS: usize = 16;

/// The octets to digest, and whether the transforms kept the whole dereferenced object.
pub struct Applied {
    /// The digest input.
    pub octets: Vec<u8>,
    /// Every node of the dereferenced set survived the transforms, except signatures inside it
    /// (what enveloped-signature, `not(ancestor-or-self::ds:Signature)` and a Filter 2.0
    /// `subtract //ds:Signature` remove). `false` means the signer covered only a part, which a
    /// wrapping attack exploits (DSS reports such a scope as PARTIAL).
    pub whole: bool,
}

/// Applies `transforms` in order and returns the octets to digest.
pub fn apply(env: &Env, transforms: &[Node], data: Data) -> Result<Applied, TransformError> {
    if transforms.len() > MAX_TRANSFORMS {
        return Err(TransformError::Failed(format!(
            "more than {MAX_TRANSFORMS} transforms"
        )));
    }
    let initial = match &data {
        Data::Nodes(set) => Some(set.clone()),
        Data::Octets(_) => None,
    };
    let mut whole = true;
    let mut data = data;
    for (i, t) in transforms.iter().enumerate() {
        let alg = t.attribute("Algorithm").unwrap_or("");
        let needs_nodes =
            Params::from_uri(alg).is_some() || matches!(alg, ENVELOPED | XPATH | FILTER2);
        if let (Data::Octets(bytes), true) = (&data, needs_nodes) {
            let rest = reparse_and_apply(bytes, transforms.get(i..).unwrap_or(&[]))?;
            return Ok(Applied {
                octets: rest.octets,
                whole: whole && rest.whole,
            });
        }
        let leaves_nodes = Params::from_uri(alg).is_some() || alg == BASE64;
        if let (Data::Nodes(set), Some(initial), true) = (&data, &initial, leaves_nodes) {
            whole &= covers(env.doc, initial, set);
        }
        data = one(env, *t, alg, data)?;
    }
    let octets = match data {
        Data::Octets(bytes) => bytes,
        Data::Nodes(set) => {
            if let Some(initial) = &initial {
                whole &= covers(env.doc, initial, &set);
            }
            canonicalize(env.doc, &set, &default_c14n())
        }
    };
    Ok(Applied { octets, whole })
}

/// Whether `last` still holds every node of `initial` outside the signatures `initial` holds.
fn covers(doc: &Document, initial: &NodeSet, last: &NodeSet) -> bool {
    if initial == last {
        return true;
    }
    let mut expected = initial.clone();
    for sig in doc.descendants().filter(|n| is_dsig(*n, "Signature")) {
        if initial.contains(sig) {
            expected.remove_subtree(sig);
        }
    }
    expected.subtract(last);
    expected.is_empty()
}

fn default_c14n() -> Params {
    Params {
        method: super::c14n::Method::Inclusive10,
        with_comments: false,
        inclusive_prefixes: Vec::new(),
    }
}

/// §4.4.3.2: octets followed by a transform that needs a node-set are parsed as XML.
fn reparse_and_apply(bytes: &[u8], rest: &[Node]) -> Result<Applied, TransformError> {
    let text = parse::decode(bytes).map_err(|e| TransformError::Failed(e.to_string()))?;
    let doc = parse::parse(&text).map_err(|e| TransformError::Failed(e.to_string()))?;
    let ids = IdIndex::new(&doc);
    let env = Env {
        doc: &doc,
        signature: None,
        ids: &ids,
    };
    apply(&env, rest, Data::Nodes(NodeSet::whole(&doc)))
}

fn one(env: &Env, t: Node, alg: &str, data: Data) -> Result<Data, TransformError> {
    if let Some(mut params) = Params::from_uri(alg) {
        params.inclusive_prefixes = inclusive_prefixes(t);
        return Ok(Data::Octets(match data {
            Data::Nodes(set) => canonicalize(env.doc, &set, &params),
            Data::Octets(bytes) => bytes,
        }));
    }
    match (alg, data) {
        (BASE64, data) => base64_transform(env, data).map(Data::Octets),
        (ENVELOPED, Data::Nodes(mut set)) => {
            let sig = env.signature.ok_or_else(|| {
                TransformError::Failed("enveloped-signature outside a signature".into())
            })?;
            set.remove_subtree(sig);
            Ok(Data::Nodes(set))
        }
        (XPATH, Data::Nodes(set)) => xpath_transform(env, t, set).map(Data::Nodes),
        (FILTER2, Data::Nodes(set)) => filter2(env, t, set).map(Data::Nodes),
        (other, _) => Err(TransformError::Unsupported(other.to_string())),
    }
}

/// The `PrefixList` of an Exclusive C14N `InclusiveNamespaces` child (Exc-C14N §4.1).
pub fn inclusive_prefixes(method: Node) -> Vec<String> {
    method
        .children()
        .find(|c| c.tag_name().namespace() == Some(EXC_C14N_NS))
        .and_then(|c| c.attribute("PrefixList"))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// §6.6.2: a node-set input becomes the string-value of its text nodes, then is decoded.
fn base64_transform(env: &Env, data: Data) -> Result<Vec<u8>, TransformError> {
    let text: Vec<u8> = match data {
        Data::Octets(bytes) => bytes,
        Data::Nodes(set) => env
            .doc
            .descendants()
            .filter(|n| n.is_text() && set.contains(*n))
            .flat_map(|n| n.text().unwrap_or("").bytes())
            .collect(),
    };
    decode_base64(&text).ok_or_else(|| TransformError::Failed("invalid base64".into()))
}

/// Decodes base64 ignoring whitespace, with or without padding.
pub fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(clean).ok()
}

/// §6.6.3 XPath filtering, for the expressions signers write: `ancestor-or-self::STEP` and
/// `not(ancestor-or-self::STEP)` (STEP a name test with simple predicates, evaluated by
/// [`xpath`]), and the `here()` form of enveloped-signature. Other expressions are refused.
fn xpath_transform(env: &Env, t: Node, mut set: NodeSet) -> Result<NodeSet, TransformError> {
    let el = t
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "XPath")
        .ok_or_else(|| TransformError::Failed("xpath transform without expression".into()))?;
    let text = el.text().unwrap_or("").trim();
    let unsupported = || TransformError::Unsupported(format!("xpath {text}"));
    if is_here_enveloped(text, el) {
        // here() names the XPath element, which must belong to the filtered document.
        let sig = env
            .signature
            .and_then(|_| el.ancestors().find(|n| is_dsig(*n, "Signature")))
            .ok_or_else(unsupported)?;
        set.remove_subtree(sig);
        return Ok(set);
    }
    let (negate, inner) = match text.strip_prefix("not(").and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (true, inner.trim()),
        None => (false, text),
    };
    let step = inner
        .strip_prefix("ancestor-or-self::")
        .ok_or_else(unsupported)?;
    let ids = |id: &str| env.ids.all(id);
    let ctx = xpath::Context {
        doc: env.doc,
        scope: el,
        here: None,
        ids: &ids,
    };
    let matched = xpath::select(&ctx, &format!("//{step}")).map_err(|_| unsupported())?;
    if negate {
        for n in matched {
            // Signatures enclosing the input are kept: a reference to a counter-signed
            // SignatureValue keeps its content, as xmlsec1 and DSS compute it (DSS sample
            // TEST_S1a_C1a_InTL_VALID.xml).
            if !is_dsig(n, "Signature") || set.contains(n) {
                set.remove_subtree(n);
            }
        }
    } else {
        let mut keep = NodeSet::empty(env.doc);
        for n in matched {
            keep.set_subtree(n, true);
        }
        set.intersect(&keep);
    }
    Ok(set)
}

/// `count(ancestor-or-self::ds:Signature | here()/ancestor::ds:Signature[1]) >
/// count(ancestor-or-self::ds:Signature)`: the enveloped-signature transform as XPath (§6.6.4).
fn is_here_enveloped(text: &str, el: Node) -> bool {
    let expr: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(start) = expr.find("ancestor-or-self::") else {
        return false;
    };
    let rest = expr.get(start + "ancestor-or-self::".len()..).unwrap_or("");
    let Some(end) = rest.find("Signature") else {
        return false;
    };
    let prefix = rest.get(..end).unwrap_or("");
    let bound = match prefix.strip_suffix(':') {
        Some(p) => el.lookup_namespace_uri(Some(p)),
        None if prefix.is_empty() => el.lookup_namespace_uri(None),
        None => None,
    };
    let p = prefix;
    bound == Some(DSIG_NS)
        && expr
            == format!(
                "count(ancestor-or-self::{p}Signature|here()/ancestor::{p}Signature[1])>count(ancestor-or-self::{p}Signature)"
            )
}

/// Whether `n` is the XML-DSig element `local`.
pub fn is_dsig(n: Node, local: &str) -> bool {
    n.is_element() && n.tag_name().name() == local && n.tag_name().namespace() == Some(DSIG_NS)
}

/// xmldsig-filter2 §3.4: start from the whole document, apply each intersect / subtract /
/// union with the subtrees its expression selects, then intersect with the input.
fn filter2(env: &Env, t: Node, input: NodeSet) -> Result<NodeSet, TransformError> {
    let mut filter = NodeSet::whole(env.doc);
    let ids = |id: &str| env.ids.all(id);
    let mut seen = false;
    for el in t
        .children()
        .filter(|c| c.tag_name().namespace() == Some(FILTER2_NS) && c.tag_name().name() == "XPath")
    {
        seen = true;
        let ctx = xpath::Context {
            doc: env.doc,
            scope: el,
            here: env.signature.map(|_| el),
            ids: &ids,
        };
        let expr = el.text().unwrap_or("");
        let nodes =
            xpath::select(&ctx, expr).map_err(|e| TransformError::Unsupported(e.to_string()))?;
        let mut selected = NodeSet::empty(env.doc);
        for n in nodes {
            selected.set_subtree(n, true);
        }
        match el.attribute("Filter") {
            Some("intersect") => filter.intersect(&selected),
            Some("subtract") => filter.subtract(&selected),
            Some("union") => filter.union(&selected),
            other => {
                return Err(TransformError::Failed(format!(
                    "filter2 operation {}",
                    other.unwrap_or("missing")
                )))
            }
        }
    }
    if !seen {
        return Err(TransformError::Failed("filter2 without xpath".into()));
    }
    let mut out = input;
    out.intersect(&filter);
    Ok(out)
}
