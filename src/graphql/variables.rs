//! The spec's CoerceVariableValues, before anything runs: every variable the operation
//! declares is given (or has a default, or may be null) and fits its declared type.
//!
//! async-graphql checks a variable only where an argument uses it, and a missing one only
//! when the resolver asks for it (a field error, mid-execution). Checked here first, a bad
//! variable is a request error with `BAD_USER_INPUT` that names it, and nothing runs.

use async_graphql::Value;
use async_graphql::parser::types::{BaseType, Type, VariableDefinition};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{Positioned, ServerError, Variables};

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
