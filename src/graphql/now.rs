//! Objects answered at once. async-graphql resolves every field of an object as a boxed
//! future, joins it with its siblings and inserts its value by hashed name: about 2,500
//! instructions a field (callgrind), most of the accounts page's cost, where some 300
//! latest samples with their metrics are 1,800 fields whose values are already in memory.
//!
//! An object whose fields are plain values implements [`Plain`]; a resolver returns it as
//! [`Now`], which answers the object's selection in one pass when every selection is a
//! field without directives that [`Plain::field`] knows, each under its own response key.
//! Anything else — a fragment, `@skip`, a field that must await or can fail — goes through
//! async-graphql's own resolution, unchanged. The GraphQL type is the wrapped one's: `Now`
//! only changes how its value is computed, never the schema or the answer.

use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use std::borrow::Cow;

/// An object whose plain fields can be answered without awaiting anything.
pub trait Plain {
    /// The GraphQL type it answers for (its name is `__typename`).
    type Of: OutputType;

    /// The value of the field `name`, its own selection in `ctx` (for an object), or
    /// `None` when it is not a plain field (the object then resolves the usual way).
    fn field(&self, name: &str, ctx: &ContextSelectionSet<'_>) -> Option<Value>;
}

/// `object`'s answer to the selection in `ctx`, or `None` when some selection is not
/// plain.
pub fn object<T: Plain>(object: &T, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
    let items = &ctx.item.node.items;
    let mut values = async_graphql::indexmap::IndexMap::with_capacity(items.len());
    for selection in items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field: &Field = &field.node;
        if !field.directives.is_empty() {
            return None;
        }
        let name = field.name.node.as_str();
        let value = if name == "__typename" {
            Value::String(<T::Of as OutputType>::type_name().into_owned())
        } else {
            object.field(name, &ctx.with_selection_set(&field.selection_set))?
        };
        // A key selected twice is merged by the executor's rules; leave it to them.
        if values
            .insert(field.response_key().node.clone(), value)
            .is_some()
        {
            return None;
        }
    }
    Some(Value::Object(values))
}

/// Each item answered by `answer` as a list, or `None` when one of them is not plain.
pub fn list<I>(
    items: impl IntoIterator<Item = I>,
    answer: impl FnMut(I) -> Option<Value>,
) -> Option<Value> {
    Some(Value::List(
        items.into_iter().map(answer).collect::<Option<_>>()?,
    ))
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
        match object(&self.0, ctx) {
            Some(value) => Ok(value),
            None => self.0.resolve(ctx, field).await,
        }
    }
}
