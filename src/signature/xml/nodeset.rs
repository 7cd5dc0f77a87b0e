//! XPath node-sets over a read-only tree, as the input of canonicalization (W3C XML-DSig §4.4.3.2,
//! Canonical XML 1.0 §2.1 "document subsets").
//!
//! A [`NodeSet`] holds one bit per tree node (elements, text, comments, PIs); an included element
//! brings its attribute and namespace nodes with it, which is what every transform we support
//! (same-document references, enveloped-signature, XPath Filter 2.0 subtrees) produces. The
//! [`NodeFilter`] trait lets tests express finer XPath results (namespace or attribute nodes
//! filtered one by one).

use roxmltree::{Attribute, Document, Node, NodeId};

/// Which nodes of a document are in a node-set.
pub trait NodeFilter {
    /// Whether an element, text, comment or processing-instruction node is in the set.
    fn node(&self, node: Node) -> bool;

    /// Whether an attribute node of `element` is in the set (default: with its element).
    fn attribute(&self, element: Node, attribute: &Attribute) -> bool {
        let _ = attribute;
        self.node(element)
    }

    /// Whether the namespace node `prefix` ("" for the default) of `element` is in the set.
    fn namespace(&self, element: Node, prefix: &str, uri: &str) -> bool {
        let _ = (prefix, uri);
        self.node(element)
    }
}

/// A node-set as one bit per node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSet {
    bits: Vec<bool>,
}

fn index(id: NodeId) -> usize {
    id.get_usize()
}

impl NodeSet {
    /// The empty set.
    pub fn empty(doc: &Document) -> Self {
        // Node ids follow document order, so the last node is found by following last
        // children from the root: O(depth) instead of a walk over the whole tree.
        let mut last = doc.root();
        while let Some(child) = last.last_child() {
            last = child;
        }
        NodeSet {
            bits: vec![false; index(last.id()) + 1],
        }
    }

    /// Every node of the document (XPath `/descendant-or-self::node()`).
    pub fn whole(doc: &Document) -> Self {
        let mut set = Self::empty(doc);
        set.bits.iter_mut().for_each(|b| *b = true);
        set
    }

    /// The subtree rooted at `node`, the node included.
    pub fn subtree(doc: &Document, node: Node) -> Self {
        let mut set = Self::empty(doc);
        set.set_subtree(node, true);
        set
    }

    /// Sets every node of the subtree rooted at `node` to `value`.
    pub fn set_subtree(&mut self, node: Node, value: bool) {
        for n in node.descendants() {
            if let Some(bit) = self.bits.get_mut(index(n.id())) {
                *bit = value;
            }
        }
    }

    /// Removes the subtree rooted at `node` (the enveloped-signature transform, §6.6.4).
    pub fn remove_subtree(&mut self, node: Node) {
        self.set_subtree(node, false);
    }

    /// Removes every comment node (§4.4.3.3: `URI=""` and `#id` references drop comments).
    pub fn remove_comments(&mut self, doc: &Document) {
        self.remove_comments_under(doc.root());
    }

    /// Removes the comment nodes of the subtree rooted at `node`.
    pub fn remove_comments_under(&mut self, node: Node) {
        for n in node.descendants().filter(|n| n.is_comment()) {
            if let Some(bit) = self.bits.get_mut(index(n.id())) {
                *bit = false;
            }
        }
    }

    /// Keeps only the nodes also in `other`.
    pub fn intersect(&mut self, other: &NodeSet) {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a = *a && *b;
        }
    }

    /// Removes the nodes in `other`.
    pub fn subtract(&mut self, other: &NodeSet) {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a = *a && !*b;
        }
    }

    /// Adds the nodes in `other`.
    pub fn union(&mut self, other: &NodeSet) {
        for (a, b) in self.bits.iter_mut().zip(other.bits.iter()) {
            *a = *a || *b;
        }
    }

    /// Whether `node` is in the set.
    pub fn contains(&self, node: Node) -> bool {
        self.bits.get(index(node.id())).copied().unwrap_or(false)
    }

    /// The elements in the set, in document order.
    pub fn elements<'a, 'i>(&self, doc: &'a Document<'i>) -> Vec<Node<'a, 'i>> {
        doc.descendants()
            .filter(|n| n.is_element() && self.contains(*n))
            .collect()
    }

    /// The number of nodes in the set.
    pub fn len(&self) -> usize {
        self.bits.iter().filter(|b| **b).count()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        !self.bits.iter().any(|b| *b)
    }
}

impl NodeFilter for NodeSet {
    fn node(&self, node: Node) -> bool {
        self.contains(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_one_bit_per_node() {
        let doc = Document::parse("<?p x?><a><b/>t<!--c--></a><!--d-->").unwrap();
        assert_eq!(NodeSet::whole(&doc).len(), doc.descendants().count());
    }

    #[test]
    fn subtree_minus_a_child_keeps_the_siblings() {
        let doc = Document::parse("<a><b/><c>t</c></a>").unwrap();
        let a = doc.root_element();
        let mut set = NodeSet::subtree(&doc, a);
        let b = a.first_child().unwrap();
        set.remove_subtree(b);
        assert!(set.contains(a));
        assert!(!set.contains(b));
        assert_eq!(set.len(), 3);
    }
}
