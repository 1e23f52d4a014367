//! The spec's CoerceVariableValues, before anything runs: every variable the operation
//! declares is given (or has a default, or may be null) and fits its declared type.
//!
//! async-graphql checks a variable only where an argument uses it, and a missing one only
//! when the resolver asks for it (a field error, mid-execution). Checked here first, a bad
//! variable is a request error with `BAD_USER_INPUT` that names it, and nothing runs.

use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
    SelectionSet, Type, VariableDefinition,
};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{Name, Value};
use async_graphql::{Positioned, ServerError, Variables};
use std::collections::HashMap;

use crate::error::AppError;

/// The problems with `variables` for an operation declaring `definitions`, one per variable.
pub fn coerce(
    registry: &Registry,
    definitions: &[Positioned<VariableDefinition>],
    variables: &Variables,
) -> Vec<ServerError> {
    definitions
        .iter()
        .filter_map(|definition| {
            let name = definition.node.name.node.as_str();
            let ty = &definition.node.var_type.node;
            let field = format!("variables.{name}");
            let problem = match variables.get(name) {
                None if definition.node.default_value.is_none() && !ty.nullable => {
                    Some((field, format!("required ({ty}) but not given")))
                }
                None => None,
                Some(value) => check(registry, ty, value, &field).err(),
            };
            problem.map(|(field, message)| {
                async_graphql::Error::from(AppError::bad_input(field, message))
                    .into_server_error(definition.pos)
            })
        })
        .collect()
}

/// `Err((where, what))` when `value` cannot be coerced to `ty` (input coercion rules: a single
/// value stands for a list of one).
fn check(registry: &Registry, ty: &Type, value: &Value, at: &str) -> Result<(), (String, String)> {
    if *value == Value::Null {
        return if ty.nullable {
            Ok(())
        } else {
            Err((at.to_owned(), format!("expected {ty}, got null")))
        };
    }
    match &ty.base {
        BaseType::List(item) => match value {
            Value::List(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, value)| check(registry, item, value, &format!("{at}[{i}]"))),
            single => check(registry, item, single, at),
        },
        BaseType::Named(name) => named(registry, name, value, at),
    }
}

fn named(registry: &Registry, name: &str, value: &Value, at: &str) -> Result<(), (String, String)> {
    let wrong = |expected: String| {
        Err((
            at.to_owned(),
            format!("expected {expected}, got {}", kind(value)),
        ))
    };
    // Unknown types and output types are for validation to name (KnownTypeNames,
    // VariablesAreInputTypes): nothing to coerce to here.
    match registry.types.get(name) {
        Some(MetaType::Scalar {
            is_valid: Some(is_valid),
            ..
        }) if !is_valid(value) => wrong(name.to_owned()),
        Some(MetaType::Enum { enum_values, .. }) => match value {
            Value::Enum(v) if enum_values.contains_key(v.as_str()) => Ok(()),
            Value::String(v) if enum_values.contains_key(v.as_str()) => Ok(()),
            _ => wrong(format!(
                "one of {}",
                enum_values.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        },
        Some(MetaType::InputObject {
            input_fields,
            oneof,
            ..
        }) => {
            let Value::Object(given) = value else {
                return wrong(format!("an object ({name})"));
            };
            if let Some(unknown) = given
                .keys()
                .find(|k| !input_fields.contains_key(k.as_str()))
            {
                return Err((
                    format!("{at}.{unknown}"),
                    format!(
                        "{name} has no such field; it has {}",
                        input_fields.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            if *oneof && (given.len() != 1 || given.values().any(|v| *v == Value::Null)) {
                return Err((
                    at.to_owned(),
                    format!("{name} takes exactly one of its fields, not null"),
                ));
            }
            input_fields.values().try_for_each(|field| {
                let at = format!("{at}.{}", field.name);
                let Some(ty) = Type::new(&field.ty) else {
                    return Ok(());
                };
                match given.get(field.name.as_str()) {
                    Some(value) => check(registry, &ty, value, &at),
                    None if !ty.nullable && field.default_value.is_none() => {
                        Err((at, format!("required ({ty}) but not given")))
                    }
                    None => Ok(()),
                }
            })
        }
        _ => Ok(()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Boolean(_) => "a boolean",
        Value::Binary(_) => "binary data",
        Value::Enum(_) => "an enum value",
        Value::List(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The variables of `definitions` the request leaves out that have no default.
pub fn absent(definitions: &[Positioned<VariableDefinition>], variables: &Variables) -> Vec<Name> {
    definitions
        .iter()
        .map(|d| &d.node)
        .filter(|d| d.default_value.is_none() && variables.get(d.name.node.as_str()).is_none())
        .map(|d| d.name.node.clone())
        .collect()
}

/// The spec's CoerceArgumentValues: an argument whose value is a variable the request left
/// out (with no default) is as if not given, so the argument's own default applies.
/// async-graphql reads such a variable as null instead, which fails `changesOnly: $c` on a
/// `Boolean! = false`. Such arguments are dropped before it runs, with the variable's
/// definition (validation refuses a variable nothing uses); a variable also used elsewhere
/// (inside a list or an input object, or a directive) is left as it is.
pub fn drop_absent(document: &mut ExecutableDocument, absent: &[Name]) {
    if absent.is_empty() {
        return;
    }
    let mut uses = Uses::default();
    for set in selection_sets(document) {
        uses.count(set);
    }
    for operation in operations_mut(document) {
        uses.directives(&operation.directives);
    }
    for fragment in document.fragments.values() {
        uses.directives(&fragment.node.directives);
    }
    let droppable: Vec<Name> = absent
        .iter()
        .filter(|name| {
            uses.direct
                .get(*name)
                .is_some_and(|direct| uses.all.get(*name) == Some(direct))
        })
        .cloned()
        .collect();
    if droppable.is_empty() {
        return;
    }
    for set in selection_sets_mut(document) {
        prune(set, &droppable);
    }
    for operation in operations_mut(document) {
        operation
            .variable_definitions
            .retain(|d| !droppable.contains(&d.node.name.node));
    }
}

/// How often each variable is used: anywhere, and as a whole argument of a field.
#[derive(Default)]
struct Uses {
    all: HashMap<Name, usize>,
    direct: HashMap<Name, usize>,
}

impl Uses {
    fn count(&mut self, set: &SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    for (_, value) in &field.node.arguments {
                        if let async_graphql_value::Value::Variable(name) = &value.node {
                            *self.direct.entry(name.clone()).or_default() += 1;
                        }
                        self.values(&value.node);
                    }
                    self.directives(&field.node.directives);
                    self.count(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.directives);
                    self.count(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => self.directives(&spread.node.directives),
            }
        }
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) {
        for directive in directives {
            for (_, value) in &directive.node.arguments {
                self.values(&value.node);
            }
        }
    }

    /// Every variable in `value`, however deep.
    fn values(&mut self, value: &async_graphql_value::Value) {
        let _ = value.clone().into_const_with(|name| {
            *self.all.entry(name).or_default() += 1;
            Ok::<_, ()>(Value::Null)
        });
    }
}

fn operations_mut(document: &mut ExecutableDocument) -> Vec<&mut OperationDefinition> {
    match &mut document.operations {
        DocumentOperations::Single(operation) => vec![&mut operation.node],
        DocumentOperations::Multiple(operations) => {
            operations.values_mut().map(|o| &mut o.node).collect()
        }
    }
}

fn selection_sets(document: &ExecutableDocument) -> Vec<&SelectionSet> {
    let operations: Vec<&OperationDefinition> = match &document.operations {
        DocumentOperations::Single(operation) => vec![&operation.node],
        DocumentOperations::Multiple(operations) => operations.values().map(|o| &o.node).collect(),
    };
    operations
        .into_iter()
        .map(|o| &o.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|f| &f.node.selection_set.node),
        )
        .collect()
}

fn selection_sets_mut(document: &mut ExecutableDocument) -> Vec<&mut SelectionSet> {
    let ExecutableDocument {
        operations,
        fragments,
    } = document;
    let operations: Vec<&mut OperationDefinition> = match operations {
        DocumentOperations::Single(operation) => vec![&mut operation.node],
        DocumentOperations::Multiple(operations) => {
            operations.values_mut().map(|o| &mut o.node).collect()
        }
    };
    operations
        .into_iter()
        .map(|o| &mut o.selection_set.node)
        .chain(
            fragments
                .values_mut()
                .map(|f| &mut f.node.selection_set.node),
        )
        .collect()
}

fn prune(set: &mut SelectionSet, absent: &[Name]) {
    for item in &mut set.items {
        match &mut item.node {
            Selection::Field(field) => {
                field.node.arguments.retain(
                    |(_, value)| !matches!(&value.node, async_graphql_value::Value::Variable(v) if absent.contains(v)),
                );
                prune(&mut field.node.selection_set.node, absent);
            }
            Selection::InlineFragment(fragment) => {
                prune(&mut fragment.node.selection_set.node, absent);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}
