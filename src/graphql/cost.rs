//! Bounded work per request, before async-graphql looks at the document: its depth and
//! directive checks (in its parse step) and its validation walk fragments as written, so a
//! small document whose fragments each spread the next twice costs time exponential in
//! their number. Here an operation's fields are counted *after*
//! spreading, in time linear in the document (each fragment is measured once and reused),
//! and an operation over the bound is refused. The same pass counts the fields that call
//! ConnectWise (one per operation, however many aliases ask for more) and measures the
//! depth, which is limited here rather than by async-graphql's `limit_depth` so that
//! introspection's `ofType` chains can be left out of it (see [`Cost::depth`]).

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError};
use std::collections::HashMap;

use super::codes::{VALIDATION_FAILED, with_code};

/// Fields that read ConnectWise when resolved: each at most once per operation (aliases
/// would multiply its calls; different ones together are fine, e.g. both syncs).
pub(crate) const CONNECTWISE_FIELDS: [&str; 4] = [
    "previewPush",
    "testPsaConnection",
    "syncLevels",
    "syncCompanies",
];

/// What an operation costs once its fragments are spread (saturating: an explosion stops
/// at `u64::MAX`, it never overflows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub fields: u64,
    /// Occurrences of each of [`CONNECTWISE_FIELDS`], in that order.
    pub connectwise: [u64; 4],
    /// The deepest nesting of fields (`{ a { b } }` is 2), where a field named `ofType` adds
    /// no level. `ofType` is introspection's wrapper chain (`[[Int!]!]` is four `ofType`s
    /// deep): graphql-js's standard introspection query nests it nine times, so counting it
    /// would refuse GraphiQL and codegen, while it has no fan-out (one type each) to make
    /// deep nesting costly. The schema has no field of that name (a test checks), so no
    /// ordinary query escapes the limit this way. Introspection's fan-out fields (`types`,
    /// `fields`, …) count like any other.
    pub depth: u64,
}

/// introspection's type wrapper field, see [`Cost::depth`].
const WRAPPER_FIELD: &str = "ofType";

impl Cost {
    /// Siblings: their fields and reads add up, the depth is the deepest of them.
    fn add(self, other: Cost) -> Cost {
        let mut connectwise = self.connectwise;
        for (mine, theirs) in connectwise.iter_mut().zip(other.connectwise) {
            *mine = mine.saturating_add(theirs);
        }
        Cost {
            fields: self.fields.saturating_add(other.fields),
            connectwise,
            depth: self.depth.max(other.depth),
        }
    }

    /// Alternatives (operations of one document): the worst of each.
    fn worst(self, other: Cost) -> Cost {
        let mut connectwise = self.connectwise;
        for (mine, theirs) in connectwise.iter_mut().zip(other.connectwise) {
            *mine = (*mine).max(theirs);
        }
        Cost {
            fields: self.fields.max(other.fields),
            connectwise,
            depth: self.depth.max(other.depth),
        }
    }

    /// The ConnectWise field asked for most often, and how often.
    pub(crate) fn most_asked(&self) -> (&'static str, u64) {
        CONNECTWISE_FIELDS
            .iter()
            .zip(self.connectwise)
            .max_by_key(|(_, n)| *n)
            .map(|(name, n)| (*name, n))
            .unwrap_or(("", 0))
    }
}

/// The worst any operation of the document costs (only one runs, but which is not known
/// yet).
pub fn measure(doc: &ExecutableDocument) -> Cost {
    let mut measured = Measure {
        fragments: &doc.fragments,
        memo: HashMap::new(),
    };
    let operations: Vec<&SelectionSet> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    operations
        .into_iter()
        .map(|set| measured.set(set))
        .fold(Cost::default(), Cost::worst)
}

struct Measure<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Each fragment's cost, once known; `None` while it is being measured (a cycle, which
    /// validation refuses anyway, costs nothing more here).
    memo: HashMap<&'a str, Option<Cost>>,
}

impl<'a> Measure<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Cost {
        set.items.iter().fold(Cost::default(), |total, item| {
            let cost = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let inner = self.set(&field.selection_set.node);
                    let mut own = inner.add(Cost {
                        fields: 1,
                        ..Cost::default()
                    });
                    if name != WRAPPER_FIELD {
                        own.depth = inner.depth.saturating_add(1);
                    }
                    if let Some(i) = CONNECTWISE_FIELDS.iter().position(|f| *f == name) {
                        own.connectwise[i] = own.connectwise[i].saturating_add(1);
                    }
                    own
                }
                Selection::InlineFragment(inline) => self.set(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            };
            total.add(cost)
        })
    }

    fn fragment(&mut self, name: &'a str) -> Cost {
        match self.memo.get(name) {
            Some(Some(cost)) => return *cost,
            Some(None) => return Cost::default(),
            None => {}
        }
        let Some((key, definition)) = self.fragments.get_key_value(name) else {
            return Cost::default(); // validation names the unknown fragment
        };
        self.memo.insert(key.as_str(), None);
        let cost = self.set(&definition.node.selection_set.node);
        self.memo.insert(key.as_str(), Some(cost));
        cost
    }
}

/// The bound on one operation (HTTP and WebSocket alike), applied by [`super::run`] before
/// async-graphql sees the document.
#[derive(Clone, Copy, Debug)]
pub struct Bounded {
    /// Fields after spreading fragments.
    pub max_fields: u64,
    /// Nesting after spreading fragments (see [`Cost::depth`]).
    pub max_depth: u64,
}

/// Documents with more fields than this (after spreading) yield between the steps before
/// execution; smaller ones take microseconds, and a yield would cost more.
const YIELD_ABOVE_FIELDS: u64 = 200;

fn refused(message: String) -> ServerError {
    with_code(ServerError::new(message, None), VALIDATION_FAILED)
}

impl Bounded {
    /// Refuses `doc` when over the bound; otherwise says whether it is large enough that
    /// parsing and validating it take a while (the request timeout can only fire at an
    /// await, so the caller yields between steps for such a document).
    pub fn check(&self, doc: &ExecutableDocument) -> Result<bool, ServerError> {
        let cost = measure(doc);
        let Bounded {
            max_fields,
            max_depth,
        } = *self;
        if cost.fields > max_fields {
            return Err(refused(format!(
                "the operation selects {} fields once its fragments are spread; at most {} are allowed",
                if cost.fields == u64::MAX {
                    "too many".to_owned()
                } else {
                    cost.fields.to_string()
                },
                max_fields
            )));
        }
        if cost.depth > max_depth {
            return Err(refused(format!(
                "the operation is nested {} levels deep once its fragments are spread; at most {max_depth} are allowed",
                cost.depth
            )));
        }
        let (field, times) = cost.most_asked();
        if times > 1 {
            return Err(refused(format!(
                "the operation asks ConnectWise {times} times through {field}; ask for it once per request"
            )));
        }
        Ok(cost.fields > YIELD_ABOVE_FIELDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str) -> Cost {
        measure(&async_graphql::parser::parse_query(query).unwrap())
    }

    /// Fragments that each spread the next twice: 2^n fields from a document of n lines.
    fn explosion(levels: usize) -> String {
        let mut query = String::from("query { ...F0 }\n");
        for i in 0..levels {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
        query
    }

    #[test]
    fn fields_are_counted_after_spreading() {
        assert_eq!(cost("{ a b { c d } }").fields, 4);
        assert_eq!(
            cost("{ ...F ...F } fragment F on Query { a { b } }").fields,
            4
        );
        assert_eq!(cost("{ ... on Query { a b } }").fields, 2);
        assert_eq!(cost(&explosion(10)).fields, 1 << 10);
        assert_eq!(cost(&explosion(40)).fields, 1 << 40);
        // Beyond u64 it saturates instead of overflowing.
        assert_eq!(cost(&explosion(80)).fields, u64::MAX);
        // A cycle (refused by validation) does not loop here.
        assert_eq!(cost("{ ...A } fragment A on Query { a ...A }").fields, 1);
    }

    #[test]
    fn depth_is_measured_after_spreading_without_of_type() {
        assert_eq!(cost("{ a }").depth, 1);
        assert_eq!(cost("{ a { b { c } } d }").depth, 3);
        assert_eq!(cost("{ a { ...F } } fragment F on A { b { c } }").depth, 3);
        assert_eq!(cost("{ a { ... on A { b } } }").depth, 2);
        // Of two operations, the deeper.
        assert_eq!(cost("query A { a } query B { a { b } }").depth, 2);
        // introspection's wrapper chain adds nothing; its fan-out fields do.
        assert_eq!(
            cost("{ __type(name: \"X\") { ofType { ofType { ofType { name } } } } }").depth,
            2
        );
        assert_eq!(
            cost("{ __schema { types { fields { type { fields { name } } } } } }").depth,
            6
        );
        // graphql-js's standard introspection query nests ofType nine times.
        let standard = include_str!("../../tests/api/fixtures/introspection.graphql");
        assert_eq!(cost(standard).depth, 6);
        // Its 220 fields after spreading are far under the default bound (5,000).
        assert_eq!(cost(standard).fields, 220);
    }

    /// The `ofType` exemption is for introspection: no field of ours may share the name.
    #[test]
    fn no_field_of_the_schema_is_named_of_type() {
        assert!(!crate::graphql::sdl().contains(WRAPPER_FIELD));
    }

    #[test]
    fn connectwise_reads_are_counted_through_aliases_and_fragments() {
        let asked = |q: &str| cost(q).most_asked();
        assert_eq!(
            asked("{ previewPush { lines { action } } }"),
            ("previewPush", 1)
        );
        assert_eq!(
            asked("{ a: previewPush { summary { lines } } b: previewPush { summary { lines } } }"),
            ("previewPush", 2)
        );
        assert_eq!(
            asked("{ ...P ...P } fragment P on Query { previewPush { summary { lines } } }"),
            ("previewPush", 2)
        );
        // Two different reads are one each.
        assert_eq!(
            asked("mutation { syncLevels { created } syncCompanies { linked } }").1,
            1
        );
        assert_eq!(asked("{ __typename }").1, 0);
    }
}
