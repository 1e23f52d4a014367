//! Objects answered at once. async-graphql resolves every field of an object as a boxed
//! future, joins it with its siblings and inserts its value by hashed name: about 2,500
//! instructions a field (callgrind), most of the accounts page's cost, where some 300
//! latest samples with their metrics are 1,800 fields whose values are already in memory.
//!
//! An object whose fields are plain values implements [`Plain`]; a resolver returns it as
//! [`Now`], which answers the object's selection in one pass when every selection is a
//! field without directives that [`Plain::field`] knows, each under its own response key:
//! written straight to JSON text ([`super::json`]), in the selection's order, no `Value`
//! built.
//! Anything else — a fragment, `@skip`, a field that must await or can fail — goes through
//! async-graphql's own resolution, unchanged. The GraphQL type is the wrapped one's: `Now`
//! only changes how its value is computed, never the schema or the answer.

use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use std::borrow::Cow;

pub use super::json::Json;

/// An object whose plain fields can be answered without awaiting anything.
pub trait Plain {
    /// The GraphQL type it answers for (its name is `__typename`).
    type Of: OutputType;

    /// Writes the value of the field `name` (its own selection in `ctx`, for an object) to
    /// `out`; `None` when it is not a plain field (the object then resolves the usual way,
    /// and what was written is dropped).
    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()>;
}

/// Writes `object`'s answer to the selection in `ctx`, or answers `None` when some
/// selection is not plain.
pub fn object<T: Plain>(object: &T, ctx: &ContextSelectionSet<'_>, out: &mut Json) -> Option<()> {
    let items = &ctx.item.node.items;
    out.push(b'{');
    for (i, selection) in items.iter().enumerate() {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field: &Field = &field.node;
        if !field.directives.is_empty() {
            return None;
        }
        let key = field.response_key().node.as_str();
        // A key selected twice is merged by the executor's rules; leave it to them.
        if items[..i].iter().any(|earlier| match &earlier.node {
            Selection::Field(earlier) => earlier.node.response_key().node == key,
            _ => false,
        }) {
            return None;
        }
        if i > 0 {
            out.push(b',');
        }
        out.key(key);
        let name = field.name.node.as_str();
        if name == "__typename" {
            out.str(&<T::Of as OutputType>::type_name())?;
        } else {
            object.field(name, &ctx.with_selection_set(&field.selection_set), out)?;
        }
    }
    out.push(b'}');
    Some(())
}

/// Writes each item with `answer` as a list, or answers `None` when one of them is not
/// plain.
pub fn list<I>(
    out: &mut Json,
    items: impl IntoIterator<Item = I>,
    mut answer: impl FnMut(I, &mut Json) -> Option<()>,
) -> Option<()> {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        answer(item, out)?;
    }
    out.push(b']');
    Some(())
}

/// A [`Plain`] object answered at once where it can be, the same GraphQL type as `T`.
pub struct Now<T>(pub T);

impl<T: Plain + OutputType> OutputType for Now<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let mut out = Json::default();
        match object(&self.0, ctx, &mut out) {
            Some(()) => Ok(out.into_value()),
            None => self.0.resolve(ctx, field).await,
        }
    }
}
