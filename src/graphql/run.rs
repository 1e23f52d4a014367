//! One operation through the schema, on every transport: our steps before async-graphql's
//! and after them.
//!
//! Before: parse once (the document is handed to async-graphql, which does not parse it
//! again), bound its cost ([`super::cost`]), pick the operation the spec's GetOperation
//! picks, refuse a subscription over HTTP, coerce the variables ([`super::variables`]),
//! and compile the key order ([`super::order`]). After: code every error
//! ([`super::codes`]) and put the data in the selection set's order.
//!
//! async-graphql offers extension hooks for these steps, and they were extensions once.
//! With any extension registered, though, async-graphql resolves every field and list item
//! through the extension chain (a `ResolveInfo` from registry lookups, one boxed future per
//! extension); with none it takes its direct path. On `bench api`'s accounts shape that
//! chain was 10–13 % of the server's CPU, so the schema has no extensions and this module
//! wraps it instead.

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::registry::Registry;
use async_graphql::{ObjectType, Request, Response, Schema, ServerError, SubscriptionType, Value};
use futures_util::stream::{self, BoxStream, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::codes::{self, PARSE_FAILED, with_code};
use super::cost::Bounded;
use super::order::Plan;
use super::variables;

/// A schema and the steps around it.
pub struct Runner<Q, M, S> {
    schema: Schema<Q, M, S>,
    steps: Arc<Steps>,
    /// The same schema without async-graphql's validation rules, for documents that passed
    /// them before ([`Documents`]).
    validated: Arc<Validated<Q, M, S>>,
}

impl<Q, M, S> Clone for Runner<Q, M, S> {
    fn clone(&self) -> Self {
        Runner {
            schema: self.schema.clone(),
            steps: self.steps.clone(),
            validated: self.validated.clone(),
        }
    }
}

/// The schema for validated documents, built on first use: until a document comes twice it
/// costs no memory (a schema's registry is half a megabyte).
type Build<Q, M, S> = Box<dyn Fn() -> Schema<Q, M, S> + Send + Sync>;

struct Validated<Q, M, S> {
    schema: OnceLock<Schema<Q, M, S>>,
    build: Build<Q, M, S>,
}

struct Steps {
    /// The schema's types, for coercing variables (async-graphql keeps its own private).
    registry: Registry,
    bounds: Bounded,
    documents: Documents,
}

/// Documents parsed lately, by their text. Clients send the same few operations again and
/// again, and parsing (async-graphql's pest grammar) was a tenth of the CPU of a small
/// request; a clone of the parsed document costs far less. Bounded: only texts up to
/// [`Documents::LONGEST`] bytes are kept (the SPA's largest is 1.3 KiB), at most
/// [`Documents::MOST`] of them, all forgotten when full — a few MB at worst, whatever a
/// caller sends.
///
/// Each kept document also remembers whether it passed async-graphql's validation rules.
/// They depend on the document and the schema only (variable values, which one rule also
/// looks at, are coerced by [`super::variables`] before), yet they walked every selection
/// again on every request: a tenth of `{ __typename }`, 3 % of the accounts page. A
/// document that passed them once runs on the schema without them
/// ([`async_graphql::ValidationMode::Fast`], which still bounds complexity).
#[derive(Default)]
struct Documents(Mutex<HashMap<String, Kept>>);

struct Kept {
    document: ExecutableDocument,
    valid: Arc<AtomicBool>,
}

impl Documents {
    const LONGEST: usize = 4 * 1024;
    const MOST: usize = 128;

    /// The document `query` parses to, with its validity when it is kept; or the parse
    /// error.
    fn parse(
        &self,
        query: &str,
    ) -> Result<(ExecutableDocument, Option<Arc<AtomicBool>>), ServerError> {
        if let Some(kept) = self.0.lock().expect("documents lock").get(query) {
            return Ok((kept.document.clone(), Some(kept.valid.clone())));
        }
        let document = async_graphql::parser::parse_query(query)
            .map_err(|e| with_code(e.into(), PARSE_FAILED))?;
        if query.len() > Self::LONGEST {
            return Ok((document, None));
        }
        let valid = Arc::new(AtomicBool::new(false));
        let mut documents = self.0.lock().expect("documents lock");
        if documents.len() >= Self::MOST {
            documents.clear();
        }
        let kept = Kept {
            document: document.clone(),
            valid: valid.clone(),
        };
        documents.insert(query.to_owned(), kept);
        Ok((document, Some(valid)))
    }
}

/// Where the operation came from: HTTP serves no subscriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Http,
    WebSocket,
}

/// What [`Runner::execute`] answers.
pub struct Outcome {
    pub response: Response,
    /// False when the request was refused before anything ran: a request error.
    pub executed: bool,
    /// A mutation ran (cached reads of the tenant may be out of date).
    pub mutated: bool,
}

impl<Q, M, S> Runner<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    /// `schema` (built without extensions) with every operation bounded by `bounds`;
    /// `unvalidated` builds the same schema with [`async_graphql::ValidationMode::Fast`].
    pub fn new(
        schema: Schema<Q, M, S>,
        unvalidated: impl Fn() -> Schema<Q, M, S> + Send + Sync + 'static,
        bounds: Bounded,
    ) -> Self {
        let mut registry = Registry::default();
        Q::create_type_info(&mut registry);
        M::create_type_info(&mut registry);
        S::create_type_info(&mut registry);
        Runner {
            schema,
            steps: Arc::new(Steps {
                registry,
                bounds,
                documents: Documents::default(),
            }),
            validated: Arc::new(Validated {
                schema: OnceLock::new(),
                build: Box::new(unvalidated),
            }),
        }
    }

    /// Runs a query or mutation.
    pub async fn execute(&self, request: Request, transport: Transport) -> Outcome {
        let (request, prepared) = match self.steps.prepare(request, transport).await {
            Ok(prepared) => prepared,
            Err(errors) => {
                return Outcome {
                    response: Response::from_errors(errors),
                    executed: false,
                    mutated: false,
                };
            }
        };
        let mutation = prepared.mutation;
        let known = prepared.valid.as_ref();
        let valid = known.is_some_and(|valid| valid.load(Ordering::Relaxed));
        let schema = match valid {
            true => self.validated.schema.get_or_init(&self.validated.build),
            false => &self.schema,
        };
        let mut response = schema.execute(request).await;
        let executed = finish(&mut response, prepared.order.as_ref());
        if executed && let Some(known) = known {
            known.store(true, Ordering::Relaxed);
        }
        Outcome {
            response,
            executed,
            mutated: executed && mutation,
        }
    }

    /// Runs any operation, one response per result (one for a query or mutation, one per
    /// event for a subscription). A request refused before it ran answers one response with
    /// errors and no data ([`is_request_error`]).
    pub fn execute_stream(&self, request: Request) -> BoxStream<'static, Response> {
        let runner = self.clone();
        stream::once(async move {
            match runner.steps.prepare(request, Transport::WebSocket).await {
                Ok((request, prepared)) => runner
                    .schema
                    .execute_stream(request)
                    .map(move |mut response| {
                        finish(&mut response, prepared.order.as_ref());
                        response
                    })
                    .boxed(),
                Err(errors) => stream::iter([Response::from_errors(errors)]).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

/// What execution needs to know of the operation.
struct Prepared {
    mutation: bool,
    /// The order of its response's keys.
    order: Option<Plan>,
    /// Whether the document passed validation before; `None` when that is not known for
    /// this request (its text is not kept, or a variable left out changed the document).
    valid: Option<Arc<AtomicBool>>,
}

impl Steps {
    /// The request with its document parsed, and the order plan of its operation; or the
    /// request errors, coded.
    async fn prepare(
        &self,
        mut request: Request,
        transport: Transport,
    ) -> Result<(Request, Prepared), Vec<ServerError>> {
        let (mut document, valid) = self.documents.parse(&request.query).map_err(|e| vec![e])?;
        let large = self.bounds.check(&document).map_err(|e| vec![e])?;
        // Parsing and validation run without yielding, and the request timeout can only fire
        // at an await: a large document gets one at each seam.
        if large {
            tokio::task::yield_now().await;
        }
        let operations = codes::operations(&document);
        let operation =
            codes::select(&operations, request.operation_name.as_deref()).map_err(|e| vec![e])?;
        if operation.ty == OperationType::Subscription && transport == Transport::Http {
            return Err(vec![with_code(
                ServerError::new(
                    "subscriptions are served over graphql-transport-ws at /graphql/ws",
                    Some(operation.pos),
                ),
                "BAD_REQUEST",
            )]);
        }
        // async-graphql's validation reports a bad variable only where an argument uses
        // it, as a validation error; coerced here it is BAD_USER_INPUT.
        let problems = variables::coerce(&self.registry, operation.variables, &request.variables);
        if !problems.is_empty() {
            return Err(problems);
        }
        let absent = variables::absent(operation.variables, &request.variables);
        let prepared = Prepared {
            valid: valid.filter(|_| absent.is_empty()),
            mutation: operation.ty == OperationType::Mutation,
            order: Plan::compile(
                &document,
                request.operation_name.as_deref(),
                &request.variables,
            ),
        };
        variables::drop_absent(&mut document, &absent);
        request.set_parsed_query(document);
        if large {
            tokio::task::yield_now().await;
        }
        Ok((request, prepared))
    }
}

/// Codes the response's errors and puts its data in order; says whether it executed.
fn finish(response: &mut Response, plan: Option<&Plan>) -> bool {
    let executed = !is_request_error(response);
    codes::code_response(response, executed);
    if executed && let Some(plan) = plan {
        plan.order(&mut response.data);
    }
    executed
}

/// A response to an operation that never started: it did not validate. async-graphql
/// answers those with errors and no data, like an operation whose root field failed; the
/// difference is the path, which every error raised while executing a field carries and no
/// request error has.
pub fn is_request_error(response: &Response) -> bool {
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::{Documents, Runner, Transport};
    use crate::graphql::cost::Bounded;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema};
    use async_graphql::{ValidationMode, Variables};
    use serde_json::json;

    struct Numbers;

    #[Object]
    impl Numbers {
        async fn twice(&self, n: i32) -> i32 {
            2 * n
        }
    }

    /// A document runs without the validation rules only once it has passed them, and one
    /// that fails them fails every time.
    #[tokio::test]
    async fn only_documents_that_passed_validation_skip_it() {
        let schema = |mode| {
            Schema::build(Numbers, EmptyMutation, EmptySubscription)
                .validation_mode(mode)
                .finish()
        };
        let bounds = Bounded {
            max_fields: 100,
            max_depth: 10,
        };
        let runner = Runner::new(
            schema(ValidationMode::Strict),
            move || schema(ValidationMode::Fast),
            bounds,
        );
        let run = |query: &str, variables: serde_json::Value| {
            let request = Request::new(query).variables(Variables::from_json(variables.clone()));
            runner.execute(request, Transport::Http)
        };
        let unvalidated = || runner.validated.schema.get().is_some();

        // Wrong argument types are caught by validation alone (the fast schema would run
        // them): refused the second time as the first.
        for _ in 0..2 {
            let refused = run(r#"{ twice(n: "a") }"#, json!({})).await;
            assert!(!refused.executed, "{:?}", refused.response);
        }
        assert!(!unvalidated());

        let first = run("{ twice(n: 2) }", json!({})).await;
        assert!(first.executed);
        assert!(!unvalidated(), "a document's first run is validated");
        let again = run("{ twice(n: 2) }", json!({})).await;
        assert!(
            unvalidated(),
            "a document seen valid runs without the rules"
        );
        assert_eq!(again.response.data, first.response.data);

        // Variables are coerced before either schema runs.
        let query = "query($n: Int!) { twice(n: $n) }";
        assert!(run(query, json!({ "n": 3 })).await.executed);
        assert!(run(query, json!({ "n": 3 })).await.executed);
        let refused = run(query, json!({ "n": "three" })).await;
        assert!(!refused.executed);
        let code = refused.response.errors[0]
            .extensions
            .as_ref()
            .unwrap()
            .get("code");
        assert_eq!(code, Some(&async_graphql::Value::from("BAD_USER_INPUT")));
    }

    fn kept(documents: &Documents) -> usize {
        documents.0.lock().unwrap().len()
    }

    #[test]
    fn a_document_is_parsed_once_and_the_cache_stays_bounded() {
        let documents = Documents::default();
        let first = documents.parse("{ __typename }").unwrap().0;
        let again = documents.parse("{ __typename }").unwrap().0;
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert_eq!(kept(&documents), 1);
        // Errors are not kept; neither is a text longer than LONGEST.
        assert!(documents.parse("{ broken").is_err());
        let long = format!("{{ __typename {} }}", " ".repeat(Documents::LONGEST));
        documents.parse(&long).unwrap();
        assert_eq!(kept(&documents), 1);
        // Full (MOST kept), it starts again with the next one.
        for i in 0..Documents::MOST - 1 {
            documents.parse(&format!("{{ a{i}: __typename }}")).unwrap();
        }
        assert_eq!(kept(&documents), Documents::MOST);
        documents.parse("{ last: __typename }").unwrap();
        assert_eq!(kept(&documents), 1);
    }
}
