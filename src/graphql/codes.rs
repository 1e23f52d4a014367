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
//! async-graphql raises the first two without a code; this extension adds them where they
//! are raised, and also tells the HTTP handler whether execution began ([`OverHttp`]): if
//! not, the answer is a *request error* (no `data`; 400 under
//! `application/graphql-response+json`).

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextRequest, NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, VariableDefinition,
};
use async_graphql::{
    Pos, Positioned, Request, Response, ServerError, ServerResult, ValidationResult, Variables,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::variables;

pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const OPERATION_RESOLUTION_FAILURE: &str = "OPERATION_RESOLUTION_FAILURE";

/// Put in the data of a request made over HTTP: records whether execution began, and
/// refuses subscriptions (they are served over graphql-ws).
#[derive(Clone, Default)]
pub struct OverHttp(Arc<AtomicBool>);

impl OverHttp {
    /// False when the request was refused before anything ran: a request error.
    pub fn executed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The extension (one instance per request).
pub struct Coded;

impl ExtensionFactory for Coded {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CodedRequest::default())
    }
}

#[derive(Default)]
struct CodedRequest {
    /// What the validation step needs from the earlier ones.
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    operation_name: Option<String>,
    operations: Vec<Operation>,
    variables: Variables,
}

struct Operation {
    name: Option<String>,
    ty: OperationType,
    pos: Pos,
    variables: Vec<Positioned<VariableDefinition>>,
}

impl CodedRequest {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        // A panic elsewhere while holding it leaves plain data behind: still usable.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
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

fn code_the_rest(response: &mut Response) {
    for error in response.errors.iter_mut() {
        if !has_code(error) {
            let code = execution_code(error);
            set_code(error, code);
        }
    }
}

fn operations(doc: &ExecutableDocument) -> Vec<Operation> {
    let operation = |name: Option<String>, op: &Positioned<OperationDefinition>| Operation {
        name,
        ty: op.node.ty,
        pos: op.pos,
        variables: op.node.variable_definitions.clone(),
    };
    match &doc.operations {
        DocumentOperations::Single(op) => vec![operation(None, op)],
        DocumentOperations::Multiple(ops) => ops
            .iter()
            .map(|(name, op)| operation(Some(name.to_string()), op))
            .collect(),
    }
}

/// The spec's GetOperation.
fn select<'a>(
    operations: &'a [Operation],
    name: Option<&str>,
) -> Result<&'a Operation, ServerError> {
    let refused = |message: String| {
        with_code(
            ServerError::new(message, None),
            OPERATION_RESOLUTION_FAILURE,
        )
    };
    match name {
        Some(name) => operations
            .iter()
            .find(|op| op.name.as_deref() == Some(name))
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

#[async_graphql::async_trait::async_trait]
impl Extension for CodedRequest {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        // Whatever a step did not code (another extension's refusal, say).
        code_the_rest(&mut response);
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.seen().operation_name = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        match next.run(ctx, query, variables).await {
            Ok(doc) => {
                let mut seen = self.seen();
                seen.operations = operations(&doc);
                seen.variables = variables.clone();
                Ok(doc)
            }
            // The parse step also applies async-graphql's recursion and directive limits:
            // only a document that does not parse is a syntax error (parsing again costs
            // nothing on the path that succeeds).
            Err(error) if has_code(&error) => Err(error),
            Err(error) => {
                let code = if async_graphql::parser::parse_query(query).is_err() {
                    PARSE_FAILED
                } else {
                    VALIDATION_FAILED
                };
                Err(with_code(error, code))
            }
        }
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        // Variables first: async-graphql's validation reports a bad variable only where an
        // argument uses it, as a validation error; coerced here it is BAD_USER_INPUT.
        {
            let seen = self.seen();
            let operation =
                select(&seen.operations, seen.operation_name.as_deref()).map_err(|e| vec![e])?;
            if operation.ty == OperationType::Subscription && ctx.data_opt::<OverHttp>().is_some() {
                return Err(vec![with_code(
                    ServerError::new(
                        "subscriptions are served over graphql-transport-ws at /graphql/ws",
                        Some(operation.pos),
                    ),
                    "BAD_REQUEST",
                )]);
            }
            let problems = variables::coerce(
                &ctx.schema_env.registry,
                &operation.variables,
                &seen.variables,
            );
            if !problems.is_empty() {
                return Err(problems);
            }
        }
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| with_code(e, VALIDATION_FAILED))
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(http) = ctx.data_opt::<OverHttp>() {
            http.0.store(true, Ordering::SeqCst);
        }
        let mut response = next.run(ctx, operation_name).await;
        code_the_rest(&mut response);
        response
    }
}
