//! Every GraphQL error leaves with an `extensions.code`, named after the step that raised
//! it, on HTTP and WebSocket alike:
//!
//! | step | code |
//! |---|---|
//! | syntax | `GRAPHQL_PARSE_FAILED` |
//! | the spec's validation rules and our limits (fields, depth, complexity, directives) | `GRAPHQL_VALIDATION_FAILED` |
//! | no operation to run (`operationName` unknown, or missing among several) | `OPERATION_RESOLUTION_FAILURE` |
//! | variables that are missing or do not fit their types ([`super::variables`]) | `BAD_USER_INPUT` |
//! | a subscription sent over HTTP | `BAD_REQUEST` |
//! | execution | what `AppError` gave; async-graphql's own input errors `BAD_USER_INPUT` |
//!
//! Our own steps code their refusals where they raise them ([`super::run`]); async-graphql
//! raises validation and execution errors without a code, and [`code_response`] adds them.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, VariableDefinition,
};
use async_graphql::{Pos, Positioned, Response, ServerError};

pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const OPERATION_RESOLUTION_FAILURE: &str = "OPERATION_RESOLUTION_FAILURE";

/// One operation of the document, as the steps before execution need it.
pub struct Operation<'a> {
    pub name: Option<&'a str>,
    pub ty: OperationType,
    pub pos: Pos,
    pub variables: &'a [Positioned<VariableDefinition>],
}

/// Sets `code` on `error` unless it has one.
pub fn with_code(mut error: ServerError, code: &str) -> ServerError {
    set_code(&mut error, code);
    error
}

fn set_code(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

/// async-graphql's own errors met while executing come from reading arguments
/// ("Failed to parse "DateTime": …", "Invalid value for argument …"): the caller's input.
/// Anything else without a code is ours to fix.
fn execution_code(error: &ServerError) -> &'static str {
    if error.message.starts_with("Failed to parse") || error.message.starts_with("Invalid value") {
        "BAD_USER_INPUT"
    } else {
        tracing::warn!(message = %error.message, "GraphQL error without a code");
        "INTERNAL"
    }
}

/// Codes what async-graphql raised: before execution (`executed` false) validation errors,
/// after it execution errors.
pub fn code_response(response: &mut Response, executed: bool) {
    for error in response.errors.iter_mut() {
        if !has_code(error) {
            let code = if executed {
                execution_code(error)
            } else {
                VALIDATION_FAILED
            };
            set_code(error, code);
        }
    }
}

/// The document's operations.
pub fn operations(doc: &ExecutableDocument) -> Vec<Operation<'_>> {
    fn operation<'a>(
        name: Option<&'a str>,
        op: &'a Positioned<OperationDefinition>,
    ) -> Operation<'a> {
        Operation {
            name,
            ty: op.node.ty,
            pos: op.pos,
            variables: &op.node.variable_definitions,
        }
    }
    match &doc.operations {
        DocumentOperations::Single(op) => vec![operation(None, op)],
        DocumentOperations::Multiple(ops) => ops
            .iter()
            .map(|(name, op)| operation(Some(name.as_str()), op))
            .collect(),
    }
}

/// The spec's GetOperation.
pub fn select<'a, 'd>(
    operations: &'a [Operation<'d>],
    name: Option<&str>,
) -> Result<&'a Operation<'d>, ServerError> {
    let refused = |message: String| {
        with_code(
            ServerError::new(message, None),
            OPERATION_RESOLUTION_FAILURE,
        )
    };
    match name {
        Some(name) => operations
            .iter()
            .find(|op| op.name == Some(name))
            .ok_or_else(|| {
                refused(format!(
                    "operationName: the document has no operation named \"{name}\""
                ))
            }),
        None => match operations {
            [only] => Ok(only),
            _ => Err(refused(format!(
                "operationName: the document has {} operations; name the one to run",
                operations.len()
            ))),
        },
    }
}
