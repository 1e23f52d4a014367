//! The sandbox's HTTP side: the ConnectWise paths under a versioned codebase (`v2025_1`) and
//! its `v4_6_release` alias, `GET /login/companyinfo/{company}`, Basic auth with `clientId`,
//! security-role areas, conditions (unknown fields refused), ordering, numbered and
//! forward-only paging with `Link` headers naming the versioned codebase, JSON Patch, error
//! JSON (the gateway's shape for 429), rate limiting, injected latency and failures, and the
//! `/_sandbox/state` inspection endpoint.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::store::{Member, Store};
use super::{conditions, schema};

/// The codebase the sandbox's release is served under, as `companyinfo` names it.
pub const CODEBASE: &str = "v2025_1";
/// The alias every cloud site also answers under.
pub const ALIAS_CODEBASE: &str = "v4_6_release";
/// The alias's API base path (what a client that never asked `companyinfo` calls).
pub const API_PREFIX: &str = "/v4_6_release/apis/3.0";
/// The versioned API base path, which `Link` headers name.
pub const VERSIONED_PREFIX: &str = "/v2025_1/apis/3.0";
const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 1000;

/// A failure to answer with instead of the real thing.
#[derive(Clone, Debug)]
pub struct Fault {
    pub status: u16,
    /// How many calls it applies to.
    pub count: u32,
    /// Only writes (POST, PATCH, PUT, DELETE) fail.
    pub writes_only: bool,
}

#[derive(Default)]
pub struct Faults {
    pub latency: Duration,
    /// Requests per second; beyond it, 429 with `Retry-After`.
    pub rate_limit: Option<u32>,
    /// Chance in [0, 1] that a call fails with 503.
    pub fail_rate: f64,
    pub queued: VecDeque<Fault>,
    pub(super) bucket: Option<(f64, Instant)>,
}

impl Faults {
    /// A token bucket holding one second of calls: `Some(seconds to wait)` when empty.
    fn take_token(&mut self) -> Option<u64> {
        let rate = f64::from(self.rate_limit?);
        let now = Instant::now();
        let (tokens, last) = self.bucket.unwrap_or((rate, now));
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * rate).min(rate);
        if tokens >= 1.0 {
            self.bucket = Some((tokens - 1.0, now));
            None
        } else {
            self.bucket = Some((tokens, now));
            Some(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    fn injected(&mut self, write: bool) -> Option<u16> {
        let position = self.queued.iter().position(|f| !f.writes_only || write)?;
        let fault = &mut self.queued[position];
        let status = fault.status;
        fault.count = fault.count.saturating_sub(1);
        if fault.count == 0 {
            self.queued.remove(position);
        }
        Some(status)
    }
}

pub struct Shared {
    pub store: Mutex<Store>,
    pub faults: Mutex<Faults>,
    pub waits: Waits,
}

/// How the sandbox keeps its injected latency. The runtime's timer rounds a sleep up to its
/// next millisecond tick and wakes a little after it, so a sleep of 20 ms lasts about 21:
/// the sandbox asks for less by the overshoot it has seen lately (a moving average), so that
/// an answer waits the stated latency on average, not the timer's rounding of it. What it
/// waited is counted, for whoever measures against that latency (`bench push`).
#[derive(Default)]
pub struct Waits {
    /// Recent overshoot of a sleep past what was asked, in µs.
    overshoot_us: AtomicU64,
    /// Answers delayed, and their delays in µs.
    count: AtomicU64,
    total_us: AtomicU64,
}

impl Waits {
    async fn wait(&self, latency: Duration) {
        let overshoot = Duration::from_micros(self.overshoot_us.load(Relaxed)).min(latency / 2);
        let asked = latency - overshoot;
        let started = Instant::now();
        tokio::time::sleep(asked).await;
        let waited = started.elapsed();
        let over = micros(waited.saturating_sub(asked));
        let _ = self
            .overshoot_us
            .fetch_update(Relaxed, Relaxed, |old| Some(old - old / 32 + over / 32));
        self.count.fetch_add(1, Relaxed);
        self.total_us.fetch_add(micros(waited), Relaxed);
    }

    /// Answers delayed so far, and how long they waited in all.
    pub fn so_far(&self) -> (u64, Duration) {
        (
            self.count.load(Relaxed),
            Duration::from_micros(self.total_us.load(Relaxed)),
        )
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Shared {
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{codebase}/apis/3.0/{*path}", any(api))
        .route("/login/companyinfo/{company}", get(company_info))
        .route("/_sandbox/state", get(inspect))
        .with_state(shared)
}

/// `GET /login/companyinfo/{company}`: where the company's API lives. No authentication, as
/// on ConnectWise; a company the site does not host gets a 404.
async fn company_info(
    State(shared): State<Arc<Shared>>,
    Path(company): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut store = shared.store();
    *store
        .calls
        .entry("GET /login/companyinfo/{id}".into())
        .or_default() += 1;
    let known = store
        .members
        .iter()
        .any(|m| m.company_id.eq_ignore_ascii_case(&company));
    if !known {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "message": format!("Company {company:?} was not found.") })),
        )
            .into_response();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let body = json!({
        "CompanyName": "billbridge demo MSP",
        "Codebase": format!("{CODEBASE}/"),
        "VersionCode": "v2025.1",
        "VersionNumber": "v4.6.2025.1",
        "CompanyID": company,
        "IsCloud": true,
        "SiteUrl": host,
    });
    store.record_answer("GET /login/companyinfo/{id}", 200, &body);
    axum::Json(body).into_response()
}

/// ConnectWise's error JSON.
struct CwError {
    status: StatusCode,
    code: &'static str,
    message: String,
    errors: Vec<Value>,
    retry_after: Option<u64>,
    /// Answered by the API gateway in its own shape (`{"error", "message"}`), as a 429 is.
    gateway: bool,
}

impl CwError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        CwError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
            gateway: false,
        }
    }

    /// A 429 from the gateway, in its own shape.
    fn rate_limited(seconds: u64) -> Self {
        let mut error = CwError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!("Rate limit exceeded. Try again in {seconds} second(s)."),
        );
        error.retry_after = Some(seconds);
        error.gateway = true;
        error
    }

    /// A 400 for a `conditions` (or `orderBy`) that names a field the model does not have.
    fn unknown_field(parameter: &str, field: &str, model: &str) -> Self {
        let mut error = CwError::new(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            format!("{parameter}: {field:?} is not a field of {model}"),
        );
        error.errors.push(json!({ "code": "InvalidField", "message": format!("Unknown field {field:?}"), "resource": model, "field": parameter }));
        error
    }

    /// The body ConnectWise answers with. `errors` is `null` when there are none, as
    /// ConnectWise sends it.
    fn body(&self) -> Value {
        if self.gateway {
            return json!({ "error": "ConnectWiseAPI", "message": self.message });
        }
        let errors = if self.errors.is_empty() {
            Value::Null
        } else {
            Value::Array(self.errors.clone())
        };
        json!({ "code": self.code, "message": self.message, "errors": errors })
    }
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = CwError::new(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            "The object is not valid.",
        );
        error.errors.push(json!({ "code": "InvalidField", "message": message, "resource": "agreementAddition", "field": field }));
        error
    }
    fn not_found(what: &str) -> Self {
        CwError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{what} not found"),
        )
    }
    fn from_status(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        match status.as_u16() {
            429 => CwError::rate_limited(1),
            401 => CwError::new(status, "Unauthorized", "The credentials were not accepted."),
            403 => CwError::new(
                status,
                "Forbidden",
                "The security role does not allow this.",
            ),
            400..=499 => CwError::new(status, "InvalidObject", "The request was refused."),
            _ => CwError::new(status, "ServerError", "An unexpected error occurred."),
        }
    }
}

impl CwError {
    fn answer(self) -> Answer {
        Answer {
            status: self.status,
            body: self.body(),
            link: None,
            retry_after: self.retry_after,
        }
    }
}

/// What goes back: status, JSON, `Link`, `Retry-After`.
struct Answer {
    status: StatusCode,
    body: Value,
    link: Option<String>,
    retry_after: Option<u64>,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = if self.status == StatusCode::NO_CONTENT {
            self.status.into_response()
        } else {
            (self.status, axum::Json(self.body)).into_response()
        };
        if let Some(link) = self.link.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LINK, link);
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A successful answer: status, JSON, and the `Link` header of a page.
struct Reply {
    status: StatusCode,
    body: Value,
    link: Option<String>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body,
            link: None,
        }
    }
}

/// What a handler needs of the request.
struct Call<'a> {
    method: Method,
    segments: Vec<&'a str>,
    params: Vec<(String, String)>,
    body: Bytes,
    /// `http://host/v2025_1/apis/3.0/path` (the versioned codebase, whichever the request
    /// used), for `Link` headers.
    url: String,
    /// `pagination-type: forward-only` was asked for.
    forward_only: bool,
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path((codebase, path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.faults().latency;
    if !latency.is_zero() {
        shared.waits.wait(latency).await;
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let pattern = format!(
        "{method} /{}",
        segments
            .iter()
            .map(|s| if s.parse::<i64>().is_ok() { "{id}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    );
    let write = method != Method::GET;
    let answer = answer(
        &shared, &method, &codebase, &segments, query, &headers, &body,
    );
    let mut store = shared.store();
    *store.calls.entry(pattern.clone()).or_default() += 1;
    *store.codebases.entry(codebase).or_default() += 1;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    *store.accepts.entry(accept).or_default() += 1;
    if write {
        // Every write tried, accepted or refused, so tests can assert what was attempted.
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        store.writes.push(json!({
            "method": method.as_str(),
            "path": format!("/{}", segments.join("/")),
            "body": body,
            "status": answer.status.as_u16(),
        }));
    }
    store.record_answer(&pattern, answer.status.as_u16(), &answer.body);
    drop(store);
    answer.into_response()
}

fn answer(
    shared: &Shared,
    method: &Method,
    codebase: &str,
    segments: &[&str],
    query: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    // A gateway answers these before ConnectWise looks at who is asking.
    let write = method != Method::GET;
    {
        let mut faults = shared.faults();
        if let Some(wait) = faults.take_token() {
            return CwError::rate_limited(wait).answer();
        }
        if let Some(status) = faults.injected(write) {
            return CwError::from_status(status).answer();
        }
        if faults.fail_rate > 0.0 && rand::random::<f64>() < faults.fail_rate {
            return CwError::from_status(503).answer();
        }
    }
    if codebase != CODEBASE && codebase != ALIAS_CODEBASE {
        return CwError::not_found(&format!("codebase {codebase:?}")).answer();
    }
    let member = match authenticate(shared, headers) {
        Ok(member) => member,
        Err(error) => return error.answer(),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let call = Call {
        method: method.clone(),
        segments: segments.to_vec(),
        params: query
            .as_deref()
            .map(|q| {
                reqwest::Url::parse(&format!("http://x/?{q}"))
                    .map(|u| u.query_pairs().into_owned().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default(),
        body: body.clone(),
        url: format!("http://{host}{VERSIONED_PREFIX}/{}", segments.join("/")),
        forward_only: headers
            .get("pagination-type")
            .and_then(|h| h.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("forward-only")),
    };
    match route(shared, &member, &call) {
        Ok(reply) => Answer {
            status: reply.status,
            body: reply.body,
            link: reply.link,
            retry_after: None,
        },
        Err(error) => error.answer(),
    }
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Member, CwError> {
    let refused = || {
        CwError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The credentials were not accepted.",
        )
    };
    let encoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .ok_or_else(refused)?;
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| refused())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
    let (user, private_key) = decoded.split_once(':').ok_or_else(refused)?;
    let (company, public_key) = user.split_once('+').ok_or_else(refused)?;
    let member = shared
        .store()
        .members
        .iter()
        .find(|m| {
            m.company_id.eq_ignore_ascii_case(company)
                && m.public_key == public_key
                && m.private_key == private_key
        })
        .cloned()
        .ok_or_else(refused)?;
    let client_id = headers
        .get("clientId")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if client_id.trim().is_empty() {
        return Err(CwError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "A clientId header is required; register one at developer.connectwise.com.",
        ));
    }
    Ok(member)
}

/// The security-role check: ConnectWise refuses before it looks for the record.
fn allow(member: &Member, area: &str, label: &str) -> Result<(), CwError> {
    if member.denied.iter().any(|d| d == area) {
        return Err(CwError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("Your security role does not allow {label}."),
        ));
    }
    Ok(())
}

fn route(shared: &Shared, member: &Member, call: &Call<'_>) -> Result<Reply, CwError> {
    let id = |s: &str| s.parse::<i64>().map_err(|_| CwError::not_found("resource"));
    let get = call.method == Method::GET;
    match (call.segments.as_slice(), get) {
        (["system", "info"], true) => Ok(Reply::ok(json!({
            "version": "v2026.1.0000", "isCloud": true, "serverTimeZone": "Eastern Standard Time",
            "cloudRegion": "NA", "licenseBits": []
        }))),
        (["company", "companies"], true) => {
            allow(
                member,
                "companies:read",
                "Companies / Company Maintenance: Inquire",
            )?;
            list(&shared.store().companies, call, "Company")
        }
        (["company", "companies", company], true) => {
            allow(
                member,
                "companies:read",
                "Companies / Company Maintenance: Inquire",
            )?;
            find(&shared.store().companies, id(company)?, "Company")
        }
        (["finance", "agreements"], true) => {
            allow(member, "agreements:read", "Finance / Agreements: Inquire")?;
            list(&shared.store().agreements, call, "Agreement")
        }
        (["finance", "agreements", "types"], true) => {
            allow(member, "agreements:read", "Finance / Agreements: Inquire")?;
            list(&shared.store().agreement_types, call, "AgreementType")
        }
        (["finance", "agreements", agreement], true) => {
            allow(member, "agreements:read", "Finance / Agreements: Inquire")?;
            find(&shared.store().agreements, id(agreement)?, "Agreement")
        }
        (["finance", "agreements", agreement, "additions"], _) => {
            let agreement = id(agreement)?;
            if get {
                allow(member, "additions:read", "Finance / Agreements: Inquire")?;
            } else {
                allow(member, "additions:write", "Finance / Agreements: Add")?;
            }
            let mut store = shared.store();
            if store.agreement(agreement).is_none() {
                return Err(CwError::not_found(&format!(
                    "Agreement with id {agreement}"
                )));
            }
            match call.method {
                Method::GET => list(
                    store.additions.get(&agreement).into_iter().flatten(),
                    call,
                    "Addition",
                ),
                Method::POST => {
                    let body = json_body(call)?;
                    if let Some(why) = store.agreement(agreement).and_then(closed_agreement) {
                        return Err(CwError::invalid("agreement", why));
                    }
                    let created = store
                        .add_addition(agreement, &body)
                        .map_err(|(field, message)| CwError::invalid(&field, message))?;
                    Ok(Reply {
                        status: StatusCode::CREATED,
                        body: created,
                        link: None,
                    })
                }
                _ => Err(CwError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "Use GET or POST.",
                )),
            }
        }
        (["finance", "agreements", agreement, "additions", addition], _) => {
            let (agreement, addition) = (id(agreement)?, id(addition)?);
            if get {
                allow(member, "additions:read", "Finance / Agreements: Inquire")?;
            } else {
                allow(member, "additions:write", "Finance / Agreements: Edit")?;
            }
            let mut store = shared.store();
            let additions = store.additions.entry(agreement).or_default();
            let position = additions
                .iter()
                .position(|a| a["id"] == addition)
                .ok_or_else(|| {
                    CwError::not_found(&format!("Agreement addition with id {addition}"))
                })?;
            match call.method {
                Method::GET => Ok(Reply::ok(additions[position].clone())),
                Method::PATCH => {
                    let record = &mut additions[position];
                    refuse_cancelled(record)?;
                    apply_patch(record, &call.body)?;
                    Ok(Reply::ok(record.clone()))
                }
                Method::PUT => {
                    let body = json_body(call)?;
                    let record = &mut additions[position];
                    refuse_cancelled(record)?;
                    for field in PATCHABLE {
                        if let Some(value) = body.get(*field) {
                            record[*field] = value.clone();
                        }
                    }
                    Ok(Reply::ok(record.clone()))
                }
                Method::DELETE => {
                    additions.remove(position);
                    Ok(Reply {
                        status: StatusCode::NO_CONTENT,
                        body: Value::Null,
                        link: None,
                    })
                }
                _ => Err(CwError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "Method not allowed.",
                )),
            }
        }
        (["procurement", "catalog"], true) => {
            allow(
                member,
                "catalog:read",
                "Procurement / Product Catalog: Inquire",
            )?;
            list(&shared.store().catalog, call, "CatalogItem")
        }
        (["company", "managedDevicesIntegrations"], true) => {
            allow(member, "integrations:read", "System / Table Setup: Inquire")?;
            list(
                &shared.store().integrations,
                call,
                "ManagedDevicesIntegration",
            )
        }
        (
            [
                "company",
                "managedDevicesIntegrations",
                integration,
                "crossReferences",
            ],
            true,
        ) => {
            allow(member, "integrations:read", "System / Table Setup: Inquire")?;
            let integration = id(integration)?;
            let store = shared.store();
            if !store.integrations.iter().any(|i| i["id"] == integration) {
                return Err(CwError::not_found(&format!(
                    "Managed devices integration with id {integration}"
                )));
            }
            let rows = store
                .cross_references
                .iter()
                .filter(|x| x["integrationId"] == integration)
                .map(|x| {
                    let mut x = x.clone();
                    if let Some(o) = x.as_object_mut() {
                        o.remove("integrationId");
                    }
                    x
                })
                .collect::<Vec<Value>>();
            drop(store);
            list(&rows, call, "ManagedDevicesIntegrationCrossReference")
        }
        (_, false) if !call.segments.is_empty() => Err(CwError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "This resource does not accept that method.",
        )),
        _ => Err(CwError::not_found("resource")),
    }
}

/// ConnectWise does not edit a cancelled addition.
fn refuse_cancelled(record: &Value) -> Result<(), CwError> {
    match record["cancelledDate"].as_str() {
        Some(date) => Err(CwError::invalid(
            "cancelledDate",
            format!("the addition was cancelled ({date}) and cannot be edited"),
        )),
        None => Ok(()),
    }
}

/// Why an agreement cannot take a new addition: cancelled, or not Active.
fn closed_agreement(agreement: &Value) -> Option<String> {
    if agreement["cancelledFlag"] == true {
        return Some("the agreement is cancelled".into());
    }
    match agreement["agreementStatus"].as_str() {
        Some("Active") => None,
        Some(status) => Some(format!("the agreement is {status}")),
        None => Some("the agreement has no status".into()),
    }
}

/// The fields of an addition a patch may change.
const PATCHABLE: &[&str] = &[
    "quantity",
    "billCustomer",
    "effectiveDate",
    "cancelledDate",
    "description",
    "unitPrice",
];

/// RFC 6902 `replace`/`add` on top-level fields, as ConnectWise accepts them.
fn apply_patch(record: &mut Value, body: &[u8]) -> Result<(), CwError> {
    let ops: Vec<Value> = serde_json::from_slice(body).map_err(|_| {
        CwError::new(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            "A PATCH body is a JSON Patch array of operations.",
        )
    })?;
    let mut changed = record.clone();
    for op in &ops {
        let kind = op["op"].as_str().unwrap_or_default();
        let path = op["path"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/');
        if !matches!(kind, "replace" | "add") {
            return Err(CwError::invalid(
                path,
                format!("operation {kind:?} is not supported; use replace"),
            ));
        }
        if !PATCHABLE.contains(&path) {
            return Err(CwError::invalid(
                path,
                format!("{path:?} cannot be patched"),
            ));
        }
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        if path == "quantity" && !value.is_number() {
            return Err(CwError::invalid("quantity", "quantity must be a number"));
        }
        changed[path] = value;
    }
    *record = changed;
    Ok(())
}

fn json_body(call: &Call<'_>) -> Result<Value, CwError> {
    serde_json::from_slice(&call.body).map_err(|e| {
        CwError::new(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            format!("The body is not JSON: {e}"),
        )
    })
}

fn find(records: &[Value], id: i64, what: &str) -> Result<Reply, CwError> {
    records
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .map(Reply::ok)
        .ok_or_else(|| CwError::not_found(&format!("{what} with id {id}")))
}

/// Filters with `conditions` and `customFieldConditions` (a field `model` does not have is a
/// 400), then serves one page: numbered (`orderBy`, `page`, `Link` first/prev/next/last) or,
/// with `pagination-type: forward-only`, the rows after `pageId` in id order (`Link` next
/// only; `orderBy` refused). Links name the versioned codebase, as ConnectWise writes them.
/// One page of `records` as the query asks (only the rows served are copied).
fn list<'a>(
    records: impl IntoIterator<Item = &'a Value>,
    call: &Call<'_>,
    model: &str,
) -> Result<Reply, CwError> {
    let bad = |what: &str, e: conditions::ConditionError| {
        CwError::new(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            format!("{what}: {e}"),
        )
    };
    let parse = |name: &str, model: &str| -> Result<Option<conditions::Expr>, CwError> {
        let Some(text) = call.param(name).filter(|c| !c.trim().is_empty()) else {
            return Ok(None);
        };
        let expr = conditions::parse(text).map_err(|e| bad(name, e))?;
        if let Some(field) = expr
            .fields()
            .into_iter()
            .find(|f| !schema::has_path(model, f))
        {
            return Err(CwError::unknown_field(name, field, model));
        }
        Ok(Some(expr))
    };
    let filter = parse("conditions", model)?;
    let custom = parse("customFieldConditions", "CustomFieldValue")?;
    let mut rows: Vec<&Value> = records
        .into_iter()
        .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
        .filter(|r| {
            custom.as_ref().is_none_or(|f| {
                r["customFields"]
                    .as_array()
                    .is_some_and(|fields| fields.iter().any(|field| f.matches(field)))
            })
        })
        .collect();
    let number = |name: &str, default: usize, least: usize| -> Result<usize, CwError> {
        match call.param(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= least)
                .ok_or_else(|| {
                    CwError::new(
                        StatusCode::BAD_REQUEST,
                        "InvalidObject",
                        format!("{name} must be a whole number ≥ {least}"),
                    )
                }),
        }
    };
    let size = number("pageSize", DEFAULT_PAGE_SIZE, 1)?.min(MAX_PAGE_SIZE);
    let page_url = |name: &str, value: usize| {
        let mut url = reqwest::Url::parse(&call.url).expect("our own URL");
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in call.params.iter().filter(|(k, _)| {
                !k.eq_ignore_ascii_case("page") && !k.eq_ignore_ascii_case("pageId")
            }) {
                pairs.append_pair(k, v);
            }
            pairs.append_pair(name, &value.to_string());
        }
        url.to_string()
    };
    if call.forward_only {
        if call.param("orderBy").is_some() {
            return Err(CwError::new(
                StatusCode::BAD_REQUEST,
                "InvalidObject",
                "orderBy cannot be used with forward-only pagination",
            ));
        }
        let after = number("pageId", 0, 0)?;
        rows.sort_by_key(|r| r["id"].as_i64().unwrap_or_default());
        let rest: Vec<&Value> = rows
            .into_iter()
            .filter(|r| r["id"].as_i64().unwrap_or_default() > after as i64)
            .collect();
        let more = rest.len() > size;
        let body: Vec<Value> = rest.into_iter().take(size).cloned().collect();
        let link = match body.last().and_then(|r| r["id"].as_u64()) {
            Some(last) if more => Some(format!(
                "<{}>; rel=\"next\"",
                page_url("pageId", last as usize)
            )),
            _ => None,
        };
        return Ok(Reply {
            status: StatusCode::OK,
            body: Value::Array(body),
            link,
        });
    }
    if let Some(order) = call.param("orderBy") {
        let mut keys: Vec<(Vec<String>, bool)> = Vec::new();
        for part in order.split(',') {
            let mut words = part.split_whitespace();
            let Some(field) = words.next() else { continue };
            if !schema::has_path(model, field) {
                return Err(CwError::unknown_field("orderBy", field, model));
            }
            let descending = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
            keys.push((field.split('/').map(str::to_owned).collect(), descending));
        }
        rows.sort_by(|a, b| {
            keys.iter()
                .map(|(path, descending)| {
                    let ordering = compare(walk(a, path), walk(b, path));
                    if *descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                })
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
    }
    let page = number("page", 1, 1)?;
    let start = (page - 1).saturating_mul(size);
    let total = rows.len();
    let last = total.div_ceil(size).max(1);
    let body: Vec<Value> = rows.into_iter().skip(start).take(size).cloned().collect();
    let mut links = vec![format!("<{}>; rel=\"first\"", page_url("page", 1))];
    if page > 1 {
        links.push(format!(
            "<{}>; rel=\"prev\"",
            page_url("page", (page - 1).min(last))
        ));
    }
    if start + size < total {
        links.push(format!("<{}>; rel=\"next\"", page_url("page", page + 1)));
    }
    links.push(format!("<{}>; rel=\"last\"", page_url("page", last)));
    Ok(Reply {
        status: StatusCode::OK,
        body: Value::Array(body),
        link: Some(links.join(", ")),
    })
}

fn walk<'a>(record: &'a Value, path: &[String]) -> &'a Value {
    path.iter()
        .fold(record, |value, key| value.get(key).unwrap_or(&Value::Null))
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// `GET /_sandbox/state`: what the sandbox holds and what was written to it, for tests that
/// check writes without trusting the client under test. Read-only.
async fn inspect(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let store = shared.store();
    axum::Json(json!({
        "companies": store.companies.len(),
        "agreements": store.agreements,
        "additions": store.all_additions(),
        "crossReferences": store.cross_references.len(),
        "writes": store.writes,
        "calls": store.calls,
        "codebases": store.codebases,
        "accepts": store.accepts,
    }))
}
