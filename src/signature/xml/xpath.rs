//! A small XPath 1.0 subset (W3C REC-xpath-19991116), enough for the XPath Filter 2.0 expressions
//! that XAdES signers write (W3C xmldsig-filter2 §3): `/`, `//Name`, `/a/p:b`, `id('x')/node()`,
//! `here()/ancestor::ds:Signature[1]`, unions with `|`, and predicates made of positions,
//! `@attr='v'`, `local-name()='v'`, `starts-with(local-name(),'v')`, `not()`, `and`, `or`.
//!
//! Anything else is refused with [`XPathError::Unsupported`]: a transform we cannot evaluate
//! makes the reference INDETERMINATE, never silently "signed".

use roxmltree::{Document, Node};
use thiserror::Error;

/// Why an expression could not be evaluated.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum XPathError {
    /// The expression is outside the supported subset.
    #[error("unsupported xpath expression: {0}")]
    Unsupported(String),
    /// A prefix has no namespace binding on the XPath element.
    #[error("xpath prefix not bound: {0}")]
    UnboundPrefix(String),
}

/// Where an expression is evaluated: the document, the element carrying the expression (its
/// namespace bindings; it may belong to another document when the filtered data was parsed
/// from octets), `here()` when that element is in the document, and an ID lookup.
pub struct Context<'a, 'i> {
    /// The document.
    pub doc: &'a Document<'i>,
    /// The element holding the expression, for its namespace bindings.
    pub scope: Node<'a, 'i>,
    /// What `here()` returns; `None` refuses `here()`.
    pub here: Option<Node<'a, 'i>>,
    /// Finds elements by ID (several when the ID is ambiguous).
    pub ids: &'a dyn Fn(&str) -> Vec<Node<'a, 'i>>,
}

/// Evaluates a location-path expression to a node list in document order.
pub fn select<'a, 'i>(ctx: &Context<'a, 'i>, expr: &str) -> Result<Vec<Node<'a, 'i>>, XPathError> {
    let mut p = Parser {
        s: expr.trim(),
        pos: 0,
        depth: 0,
        ctx,
    };
    let nodes = p.union()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(XPathError::Unsupported(expr.to_string()));
    }
    Ok(nodes)
}

/// Deepest parenthesis nesting accepted: the parser recurses once per level and the expression
/// comes from the (untrusted) signed document.
const MAX_NESTING: usize = 32;

struct Parser<'e, 'c, 'a, 'i> {
    s: &'e str,
    pos: usize,
    depth: usize,
    ctx: &'c Context<'a, 'i>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    Itself,
    Parent,
    Ancestor,
    AncestorOrSelf,
}

enum Test<'e> {
    Node,
    Text,
    AnyElement,
    Name(Option<String>, &'e str),
    AnyInNamespace(String),
}

fn sort_dedup(nodes: &mut Vec<Node>) {
    nodes.sort_by_key(|n| n.id().get_usize());
    nodes.dedup_by_key(|n| n.id().get_usize());
}

impl<'e, 'a, 'i> Parser<'e, '_, 'a, 'i> {
    fn rest(&self) -> &'e str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn unsupported(&self) -> XPathError {
        XPathError::Unsupported(self.s.to_string())
    }

    fn union(&mut self) -> Result<Vec<Node<'a, 'i>>, XPathError> {
        let mut nodes = self.path()?;
        while self.eat("|") {
            nodes.extend(self.path()?);
        }
        sort_dedup(&mut nodes);
        Ok(nodes)
    }

    fn path(&mut self) -> Result<Vec<Node<'a, 'i>>, XPathError> {
        let root = self.ctx.doc.root();
        let mut current = if self.eat("//") {
            self.steps_from(vec![root], Axis::DescendantOrSelf)?
        } else if self.eat("/") {
            self.skip_ws();
            if self.rest().is_empty() || self.rest().starts_with('|') {
                return Ok(vec![root]);
            }
            self.step(vec![root], Axis::Child)?
        } else if self.eat("id(") {
            let literal = self.literal()?;
            if !self.eat(")") {
                return Err(self.unsupported());
            }
            (self.ctx.ids)(&literal)
        } else if self.eat("here()") {
            vec![self.ctx.here.ok_or_else(|| self.unsupported())?]
        } else {
            return Err(self.unsupported());
        };
        loop {
            if self.eat("//") {
                current = self.steps_from(current, Axis::DescendantOrSelf)?;
            } else if self.eat("/") {
                current = self.step(current, Axis::Child)?;
            } else {
                return Ok(current);
            }
        }
    }

    /// `a//b` is `a/descendant-or-self::node()/child::b`.
    fn steps_from(
        &mut self,
        from: Vec<Node<'a, 'i>>,
        axis: Axis,
    ) -> Result<Vec<Node<'a, 'i>>, XPathError> {
        let mut all: Vec<Node<'a, 'i>> = Vec::new();
        for n in from {
            all.extend(axis_nodes(n, axis));
        }
        sort_dedup(&mut all);
        self.step(all, Axis::Child)
    }

    fn step(
        &mut self,
        from: Vec<Node<'a, 'i>>,
        default_axis: Axis,
    ) -> Result<Vec<Node<'a, 'i>>, XPathError> {
        let axis = self.axis().unwrap_or(default_axis);
        let test = self.node_test()?;
        let mut out = Vec::new();
        for n in from {
            let mut candidates: Vec<Node<'a, 'i>> = axis_nodes(n, axis)
                .into_iter()
                .filter(|c| self.matches(*c, &test))
                .collect();
            let save = self.pos;
            while self.eat("[") {
                candidates = self.predicate(candidates)?;
                if !self.eat("]") {
                    return Err(self.unsupported());
                }
            }
            out.extend(candidates);
            self.pos = save;
        }
        while self.eat("[") {
            self.skip_predicate()?;
        }
        sort_dedup(&mut out);
        Ok(out)
    }

    fn skip_predicate(&mut self) -> Result<(), XPathError> {
        let end = self.rest().find(']').ok_or_else(|| self.unsupported())?;
        self.pos += end + 1;
        Ok(())
    }

    fn axis(&mut self) -> Option<Axis> {
        self.skip_ws();
        const AXES: [(&str, Axis); 7] = [
            ("descendant-or-self::", Axis::DescendantOrSelf),
            ("descendant::", Axis::Descendant),
            ("ancestor-or-self::", Axis::AncestorOrSelf),
            ("ancestor::", Axis::Ancestor),
            ("child::", Axis::Child),
            ("self::", Axis::Itself),
            ("parent::", Axis::Parent),
        ];
        for (name, axis) in AXES {
            if self.eat(name) {
                return Some(axis);
            }
        }
        if self.rest().starts_with("..") {
            return None;
        }
        None
    }

    fn node_test(&mut self) -> Result<Test<'e>, XPathError> {
        if self.eat("node()") {
            return Ok(Test::Node);
        }
        if self.eat("text()") {
            return Ok(Test::Text);
        }
        if self.eat("*") {
            return Ok(Test::AnyElement);
        }
        let name = self.name()?;
        if self.rest().starts_with(":*") {
            self.pos += 2;
            return Ok(Test::AnyInNamespace(self.namespace(name)?));
        }
        if self.rest().starts_with(':') {
            self.pos += 1;
            let local = self.name()?;
            return Ok(Test::Name(Some(self.namespace(name)?), local));
        }
        Ok(Test::Name(None, name))
    }

    fn namespace(&self, prefix: &str) -> Result<String, XPathError> {
        self.ctx
            .scope
            .lookup_namespace_uri(Some(prefix))
            .map(str::to_string)
            .ok_or_else(|| XPathError::UnboundPrefix(prefix.to_string()))
    }

    fn name(&mut self) -> Result<&'e str, XPathError> {
        self.skip_ws();
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .unwrap_or(rest.len());
        if end == 0 {
            return Err(self.unsupported());
        }
        self.pos += end;
        Ok(rest.get(..end).unwrap_or(""))
    }

    fn literal(&mut self) -> Result<String, XPathError> {
        self.skip_ws();
        let rest = self.rest();
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
        let quote = quote.ok_or_else(|| self.unsupported())?;
        let body = rest.get(1..).unwrap_or("");
        let end = body.find(quote).ok_or_else(|| self.unsupported())?;
        self.pos += end + 2;
        Ok(body.get(..end).unwrap_or("").to_string())
    }

    fn matches(&self, node: Node, test: &Test) -> bool {
        match test {
            Test::Node => true,
            Test::Text => node.is_text(),
            Test::AnyElement => node.is_element(),
            Test::Name(ns, local) => {
                node.is_element()
                    && node.tag_name().name() == *local
                    && node.tag_name().namespace() == ns.as_deref()
            }
            Test::AnyInNamespace(ns) => {
                node.is_element() && node.tag_name().namespace() == Some(ns.as_str())
            }
        }
    }

    fn predicate(&mut self, nodes: Vec<Node<'a, 'i>>) -> Result<Vec<Node<'a, 'i>>, XPathError> {
        self.skip_ws();
        let digits: usize = self.rest().chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            let n: usize = self
                .rest()
                .get(..digits)
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| self.unsupported())?;
            self.pos += digits;
            return Ok(nodes
                .into_iter()
                .nth(n.wrapping_sub(1))
                .into_iter()
                .collect());
        }
        let start = self.pos;
        let mut kept = Vec::new();
        for n in nodes {
            self.pos = start;
            if self.or_expr(n)? {
                kept.push(n);
            }
        }
        if kept.is_empty() {
            self.pos = start;
            self.or_expr(self.ctx.doc.root())?;
        }
        Ok(kept)
    }

    fn or_expr(&mut self, n: Node) -> Result<bool, XPathError> {
        let mut value = self.and_expr(n)?;
        while self.eat("or ") {
            value |= self.and_expr(n)?;
        }
        Ok(value)
    }

    fn and_expr(&mut self, n: Node) -> Result<bool, XPathError> {
        let mut value = self.primary(n)?;
        while self.eat("and ") {
            value &= self.primary(n)?;
        }
        Ok(value)
    }

    fn primary(&mut self, n: Node) -> Result<bool, XPathError> {
        if self.eat("not(") || self.eat("(") {
            let negate = self.s.get(..self.pos).is_some_and(|s| s.ends_with("not("));
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return Err(self.unsupported());
            }
            let v = self.or_expr(n)?;
            self.depth -= 1;
            if !self.eat(")") {
                return Err(self.unsupported());
            }
            return Ok(v != negate);
        }
        if self.eat("starts-with(local-name(),") || self.eat("starts-with(local-name() ,") {
            let lit = self.literal()?;
            if !self.eat(")") {
                return Err(self.unsupported());
            }
            return Ok(n.tag_name().name().starts_with(lit.as_str()));
        }
        if self.eat("local-name()") {
            return self.compare(n.tag_name().name());
        }
        if self.eat("@") {
            let name = self.name()?;
            self.skip_ws();
            if !(self.rest().starts_with('=') || self.rest().starts_with("!=")) {
                return Ok(n.attribute(name).is_some());
            }
            let value = n.attribute(name).unwrap_or("\u{0}");
            return self.compare(value);
        }
        Err(self.unsupported())
    }

    fn compare(&mut self, value: &str) -> Result<bool, XPathError> {
        let equal = if self.eat("!=") {
            false
        } else if self.eat("=") {
            true
        } else {
            return Err(self.unsupported());
        };
        Ok((value == self.literal()?) == equal)
    }
}

fn axis_nodes<'a, 'i>(n: Node<'a, 'i>, axis: Axis) -> Vec<Node<'a, 'i>> {
    match axis {
        Axis::Child => n.children().collect(),
        Axis::Descendant => n.descendants().skip(1).collect(),
        Axis::DescendantOrSelf => n.descendants().collect(),
        Axis::Itself => vec![n],
        Axis::Parent => n.parent().into_iter().collect(),
        Axis::Ancestor => n.ancestors().skip(1).collect(),
        Axis::AncestorOrSelf => n.ancestors().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(xml: &str, expr: &str) -> Result<Vec<String>, XPathError> {
        let doc = Document::parse(xml).unwrap();
        let here = doc.root_element();
        let ids = |id: &str| {
            doc.descendants()
                .filter(|n| n.attribute("Id") == Some(id))
                .collect()
        };
        let ctx = Context {
            doc: &doc,
            scope: here,
            here: Some(here),
            ids: &ids,
        };
        Ok(select(&ctx, expr)?
            .iter()
            .map(|n| n.tag_name().name().to_string())
            .collect())
    }

    const XML: &str = r#"<r xmlns:ds="urn:ds"><a Id="x"><b/><ds:S/></a><ds:S><c/></ds:S></r>"#;

    #[test]
    fn selects_by_descendant_name_with_a_prefix() {
        assert_eq!(names(XML, "//ds:S").unwrap(), ["S", "S"]);
        assert_eq!(names(XML, "/descendant::ds:S[1]").unwrap(), ["S"]);
    }

    #[test]
    fn selects_children_of_an_id_and_unions() {
        assert_eq!(names(XML, "id('x')/node()").unwrap(), ["b", "S"]);
        assert_eq!(names(XML, "/r/a | //c").unwrap(), ["a", "c"]);
    }

    #[test]
    fn filters_with_local_name_predicates() {
        let expr = "//*[starts-with(local-name(),'S') or local-name()='c']";
        assert_eq!(names(XML, expr).unwrap(), ["S", "S", "c"]);
    }

    #[test]
    fn tests_attribute_values_and_presence() {
        assert_eq!(names(XML, "//*[@Id=\"x\"]").unwrap(), ["a"]);
        assert_eq!(names(XML, "/r/*[not(@Id)]").unwrap(), ["S"]);
    }

    #[test]
    fn refuses_what_it_cannot_evaluate() {
        assert!(matches!(
            names(XML, "count(//a) > 1"),
            Err(XPathError::Unsupported(_))
        ));
        let nested = format!(
            "//*[{}@Id='x'{}]",
            "not(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert!(matches!(
            names(XML, &nested),
            Err(XPathError::Unsupported(_))
        ));
        assert!(matches!(
            names(XML, "//zz:a"),
            Err(XPathError::UnboundPrefix(_))
        ));
    }
}
