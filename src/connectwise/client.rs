//! The REST client: authentication, paging, retries and decoding.
//!
//! Retries: connection errors, 408, 429 and 5xx are retried with capped exponential
//! backoff and jitter, honouring `Retry-After` (seconds or an HTTP date). A `POST` is
//! retried only when ConnectWise surely did not act on it (connection refused, 408, 429):
//! after a 5xx or a timeout it may have created the record, and creating twice is worse
//! than failing once (the push re-reads and adopts instead). Other 4xx are never retried.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, LINK, RETRY_AFTER};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

use super::conditions::Condition;
use super::error::{Error, ErrorBody};
use super::model::*;

/// The largest page ConnectWise serves.
pub const PAGE_SIZE: u32 = 1000;
/// The codebase every cloud site answers under, whatever its release (an alias of the
/// versioned one that `companyinfo` names).
pub const DEFAULT_CODEBASE: &str = "v4_6_release";
/// The model version the client pins in `Accept` unless the connection says otherwise: the
/// release whose published models billbridge is held to (`src/sandbox/schemas/`).
pub const DEFAULT_API_VERSION: &str = "2025.1";

/// Every call the client makes: the method and the path under the API base, with `{id}` for
/// ids. Each method below builds its path from here, the sandbox counts calls by the same
/// pattern, and the contract test (`tests/api/contract.rs`) must cover every entry; a unit
/// test below fails if a path literal appears in this file outside this table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Call {
    /// `GET https://{site}/login/companyinfo/{company}`: outside the API base, unauthenticated.
    CompanyInfo,
    SystemInfo,
    Companies,
    Agreements,
    AgreementTypes,
    Additions,
    CreateAddition,
    Addition,
    PatchAddition,
    Catalog,
    Integrations,
    CrossReferences,
}

impl Call {
    pub const ALL: [Call; 12] = [
        Call::CompanyInfo,
        Call::SystemInfo,
        Call::Companies,
        Call::Agreements,
        Call::AgreementTypes,
        Call::Additions,
        Call::CreateAddition,
        Call::Addition,
        Call::PatchAddition,
        Call::Catalog,
        Call::Integrations,
        Call::CrossReferences,
    ];

    pub fn method(self) -> Method {
        match self {
            Call::CreateAddition => Method::POST,
            Call::PatchAddition => Method::PATCH,
            _ => Method::GET,
        }
    }

    /// The path, `{id}` standing for each id (for `CompanyInfo`, the company).
    pub(crate) fn template(self) -> &'static str {
        match self {
            Call::CompanyInfo => "/login/companyinfo/{id}",
            Call::SystemInfo => "/system/info",
            Call::Companies => "/company/companies",
            Call::Agreements => "/finance/agreements",
            Call::AgreementTypes => "/finance/agreements/types",
            Call::Additions | Call::CreateAddition => "/finance/agreements/{id}/additions",
            Call::Addition | Call::PatchAddition => "/finance/agreements/{id}/additions/{id}",
            Call::Catalog => "/procurement/catalog",
            Call::Integrations => "/company/managedDevicesIntegrations",
            Call::CrossReferences => "/company/managedDevicesIntegrations/{id}/crossReferences",
        }
    }

    /// `GET /finance/agreements/{id}/additions`: how the sandbox names calls it counts.
    pub fn pattern(self) -> String {
        format!("{} {}", self.method(), self.template())
    }

    /// The published model (`src/sandbox/schemas/{model}.json`) of a successful answer
    /// (one record, or each row of a list); `None` for `companyinfo`, which has none.
    pub fn model(self) -> Option<&'static str> {
        Some(match self {
            Call::CompanyInfo => return None,
            Call::SystemInfo => "Info",
            Call::Companies => "Company",
            Call::Agreements => "Agreement",
            Call::AgreementTypes => "AgreementType",
            Call::Additions | Call::CreateAddition | Call::Addition | Call::PatchAddition => {
                "Addition"
            }
            Call::Catalog => "CatalogItem",
            Call::Integrations => "ManagedDevicesIntegration",
            Call::CrossReferences => "ManagedDevicesIntegrationCrossReference",
        })
    }

    /// Whether the answer is a list (paged).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Call::Companies
                | Call::Agreements
                | Call::AgreementTypes
                | Call::Additions
                | Call::Catalog
                | Call::Integrations
                | Call::CrossReferences
        )
    }

    /// Lists that grow with the MSP's customers are read forward-only (`pageId`), which
    /// ConnectWise serves faster and which cannot skip or repeat a row when records are
    /// added while we page.
    fn large(self) -> bool {
        matches!(self, Call::Companies | Call::Agreements | Call::Additions)
    }

    /// The path with `ids` in place of `{id}`, in order.
    pub fn path(self, ids: &[i64]) -> String {
        let mut ids = ids.iter();
        self.template()
            .split('/')
            .map(|segment| match segment {
                "{id}" => ids.next().map_or_else(|| "0".to_owned(), i64::to_string),
                segment => segment.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// How to reach a tenant's ConnectWise.
#[derive(Clone)]
pub struct Credentials {
    /// `api-na.myconnectwise.net`, or `http://127.0.0.1:PORT` for a local sandbox.
    pub site: String,
    pub company_id: String,
    pub public_key: String,
    pub private_key: String,
    /// The integrator's `clientId` from developer.connectwise.com.
    pub client_id: String,
    /// The codebase `companyinfo` named (`v2025_1`); `None` uses [`DEFAULT_CODEBASE`].
    pub codebase: Option<String>,
    /// The model version pinned in `Accept`; `None` uses [`DEFAULT_API_VERSION`].
    pub api_version: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("site", &self.site)
            .field("company_id", &self.company_id)
            .field("public_key", &self.public_key)
            .field("private_key", &"***")
            .field("client_id", &self.client_id)
            .field("codebase", &self.codebase)
            .field("api_version", &self.api_version)
            .finish()
    }
}

/// Timeouts and retry policy.
#[derive(Clone, Debug)]
pub struct Settings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails as rate limited.
    pub max_retry_after: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retries: 4,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// Told about every HTTP exchange (method, path, status or 0 for no answer), for metrics.
pub type CallObserver = Arc<dyn Fn(&Method, &str, u16) + Send + Sync>;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    auth: HeaderValue,
    client_id: HeaderValue,
    accept: HeaderValue,
    settings: Settings,
    observer: Option<CallObserver>,
}

/// How a list is paged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Paging {
    /// Forward-only for the large lists (companies, agreements, additions) unless an
    /// `orderBy` is asked for, numbered pages otherwise.
    #[default]
    Auto,
    /// `page=1, 2, …`.
    Numbered,
    /// `pagination-type: forward-only` and `pageId` (rows with a greater id).
    ForwardOnly,
}

/// Filters and order for a list call.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub conditions: Option<Condition>,
    pub custom_field_conditions: Option<Condition>,
    /// Only with numbered pages (ConnectWise refuses `orderBy` when paging forward-only).
    pub order_by: Option<String>,
    pub paging: Paging,
    /// Rows per page; `None` asks for the most ConnectWise serves.
    pub page_size: Option<u32>,
}

impl ListQuery {
    pub fn conditions(conditions: Condition) -> Self {
        ListQuery {
            conditions: Some(conditions),
            ..Default::default()
        }
    }
}

/// A list as read: the rows that decoded, and a warning for each that did not (one odd row
/// never fails a whole list).
#[derive(Clone, Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub warnings: Vec<String>,
}

/// `https://{site}` (or plain HTTP for a sandbox on this machine), without a path. A pasted
/// API URL (`https://site/v4_6_release/apis/3.0`) keeps only its origin.
fn origin(site: &str) -> Result<String, Error> {
    let site = site.trim().trim_end_matches('/');
    let (scheme, rest) = match site.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("https".to_owned(), site),
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let api_path = matches!(segments.as_slice(), [codebase, "apis", "3.0"] if normalize_codebase(codebase).is_some());
    if !(segments.is_empty() || api_path) {
        return Err(Error::Config(format!(
            "site {site:?} is not a host name like api-na.myconnectwise.net"
        )));
    }
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid {
        return Err(Error::Config(format!(
            "site {site:?} is not a host name like api-na.myconnectwise.net"
        )));
    }
    match scheme.as_str() {
        "https" => Ok(format!("https://{host}")),
        "http" => {
            let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
            if matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
                Ok(format!("http://{host}"))
            } else {
                Err(Error::Config(format!(
                    "site {site:?}: plain http is only allowed for a sandbox on this machine; use the host name (https)"
                )))
            }
        }
        other => Err(Error::Config(format!(
            "site {site:?}: scheme {other:?} is not https"
        ))),
    }
}

/// A codebase as `companyinfo` gives it (`v2025_1/`), without slashes; `None` if it is not
/// one ConnectWise would name.
pub fn normalize_codebase(codebase: &str) -> Option<String> {
    let codebase = codebase.trim().trim_matches('/');
    let valid = !codebase.is_empty()
        && codebase.len() <= 64
        && codebase
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    valid.then(|| codebase.to_owned())
}

/// The API base URL for a site and codebase: `https://{site}/{codebase}/apis/3.0`, or plain
/// HTTP for a sandbox on this machine.
pub fn base_url(site: &str, codebase: Option<&str>) -> Result<String, Error> {
    let codebase = match codebase {
        None => DEFAULT_CODEBASE.to_owned(),
        Some(c) => normalize_codebase(c).ok_or_else(|| {
            Error::Config(format!("codebase {c:?} is not a ConnectWise codebase"))
        })?,
    };
    Ok(format!("{}/{codebase}/apis/3.0", origin(site)?))
}

/// An HTTP client with the policy's timeouts.
fn http_client(settings: &Settings) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .user_agent(concat!("billbridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

/// Asks the site where `company`'s API lives (`GET /login/companyinfo/{company}`, which
/// needs no credentials). A site that does not answer as ConnectWise Manage, or does not
/// know the company, gets an error that says so.
pub async fn company_info(
    site: &str,
    company: &str,
    settings: &Settings,
) -> Result<CompanyInfo, Error> {
    let origin = origin(site)?;
    let mut url = reqwest::Url::parse(&origin).map_err(|e| Error::Config(e.to_string()))?;
    let segments = Call::CompanyInfo
        .template()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if s == "{id}" { company.trim() } else { s });
    url.path_segments_mut()
        .map_err(|_| Error::Config(format!("site {site:?} cannot carry a path")))?
        .extend(segments);
    let http = http_client(settings)?;
    let not_connectwise = |why: String| {
        Error::Config(format!(
            "{origin} does not answer as ConnectWise Manage for company {company:?} ({why}); check the site and the company ID"
        ))
    };
    let response = http
        .get(url)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                Error::Timeout(settings.request_timeout)
            } else {
                Error::Unreachable(without_url(&e))
            }
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(not_connectwise(format!(
            "GET /login/companyinfo answered HTTP {}",
            status.as_u16()
        )));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::Unreachable(without_url(&e)))?;
    let info: CompanyInfo = serde_json::from_slice(&bytes)
        .map_err(|_| not_connectwise("GET /login/companyinfo did not answer JSON".into()))?;
    match info.codebase.as_deref().and_then(normalize_codebase) {
        Some(_) => Ok(info),
        None => Err(not_connectwise("companyinfo names no codebase".into())),
    }
}

impl Client {
    pub fn new(credentials: &Credentials, settings: Settings) -> Result<Client, Error> {
        let base = base_url(&credentials.site, credentials.codebase.as_deref())?;
        let user = format!(
            "{}+{}:{}",
            credentials.company_id, credentials.public_key, credentials.private_key
        );
        let mut auth =
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(user))).map_err(|_| {
                Error::Config("the credentials contain characters a header cannot carry".into())
            })?;
        // Keeps the header out of debug output and HTTP/2 header tables.
        auth.set_sensitive(true);
        let client_id = HeaderValue::from_str(credentials.client_id.trim()).map_err(|_| {
            Error::Config("the clientId contains characters a header cannot carry".into())
        })?;
        let version = credentials
            .api_version
            .as_deref()
            .unwrap_or(DEFAULT_API_VERSION);
        let accept = HeaderValue::from_str(&format!(
            "application/vnd.connectwise.com+json; version={version}"
        ))
        .map_err(|_| Error::Config(format!("API version {version:?} cannot go in a header")))?;
        Ok(Client {
            http: http_client(&settings)?,
            base,
            auth,
            client_id,
            accept,
            settings,
            observer: None,
        })
    }

    pub fn with_observer(mut self, observer: CallObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The API base this client calls, e.g. `https://site/v2025_1/apis/3.0`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The cheapest authenticated call: proves reachability and credentials.
    pub async fn system_info(&self) -> Result<SystemInfo, Error> {
        self.get(Call::SystemInfo, &[]).await
    }

    pub async fn companies(&self, query: ListQuery) -> Result<Vec<Company>, Error> {
        Ok(self.list(Call::Companies, &[], &query).await?.logged())
    }

    pub async fn agreements(&self, query: ListQuery) -> Result<Vec<Agreement>, Error> {
        Ok(self.list(Call::Agreements, &[], &query).await?.logged())
    }

    pub async fn agreement_types(&self, query: ListQuery) -> Result<Vec<AgreementType>, Error> {
        Ok(self.list(Call::AgreementTypes, &[], &query).await?.logged())
    }

    /// An agreement's additions, with a warning for each row that did not decode: the
    /// caller must not write beside a line it could not read.
    pub async fn additions(
        &self,
        agreement_id: i64,
        query: ListQuery,
    ) -> Result<Listed<Addition>, Error> {
        self.list(Call::Additions, &[agreement_id], &query).await
    }

    pub async fn addition(&self, agreement_id: i64, addition_id: i64) -> Result<Addition, Error> {
        self.get(Call::Addition, &[agreement_id, addition_id]).await
    }

    pub async fn create_addition(
        &self,
        agreement_id: i64,
        addition: &NewAddition,
    ) -> Result<Addition, Error> {
        let body = serde_json::to_value(addition).map_err(|e| Error::Decode(e.to_string()))?;
        self.write(Call::CreateAddition, &[agreement_id], &body)
            .await
    }

    /// Sets (never adds to) an addition's quantity with a JSON Patch `replace`.
    pub async fn set_addition_quantity(
        &self,
        agreement_id: i64,
        addition_id: i64,
        quantity: f64,
    ) -> Result<Addition, Error> {
        if !quantity.is_finite() {
            return Err(Error::Config(format!(
                "refusing to send quantity {quantity}: not a finite number"
            )));
        }
        let body = serde_json::json!([{ "op": "replace", "path": "quantity", "value": quantity }]);
        self.write(Call::PatchAddition, &[agreement_id, addition_id], &body)
            .await
    }

    /// Cancels an addition from `from` (a JSON Patch `replace` of `cancelledDate`): it bills
    /// until then.
    pub async fn cancel_addition(
        &self,
        agreement_id: i64,
        addition_id: i64,
        from: chrono::DateTime<chrono::Utc>,
    ) -> Result<Addition, Error> {
        let date = from.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let body = serde_json::json!([{ "op": "replace", "path": "cancelledDate", "value": date }]);
        self.write(Call::PatchAddition, &[agreement_id, addition_id], &body)
            .await
    }

    pub async fn catalog(&self, query: ListQuery) -> Result<Vec<CatalogItem>, Error> {
        Ok(self.list(Call::Catalog, &[], &query).await?.logged())
    }

    pub async fn managed_devices_integrations(
        &self,
    ) -> Result<Vec<ManagedDevicesIntegration>, Error> {
        Ok(self
            .list(Call::Integrations, &[], &ListQuery::default())
            .await?
            .logged())
    }

    /// The integration's cross-references, with a warning for each row that did not decode.
    pub async fn cross_references(
        &self,
        integration_id: i64,
    ) -> Result<Listed<CrossReference>, Error> {
        self.list(
            Call::CrossReferences,
            &[integration_id],
            &ListQuery::default(),
        )
        .await
    }

    /// Makes `call` once, with ids 0 and no retries, to see whether the security role
    /// allows it. A 404 (no record 0) or a 400 (an empty body refused) means allowed.
    pub async fn probe(&self, call: Call) -> Result<(), Error> {
        let method = call.method();
        let ids = [0, 0];
        let path = call.path(&ids);
        let mut url = self.url(&path);
        if call.is_list() {
            url.push_str("?pageSize=1");
        }
        let body = match method {
            Method::PATCH => Some(serde_json::json!([])),
            Method::POST => Some(serde_json::json!({})),
            _ => None,
        };
        let mut request = self.request(method.clone(), &url);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let outcome = request.send().await;
        let (error, _) = self.outcome(&method, &path, outcome).await;
        match error {
            None | Some(Error::NotFound(_)) | Some(Error::Rejected(_)) => Ok(()),
            Some(error) => Err(error),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get<T: DeserializeOwned>(&self, call: Call, ids: &[i64]) -> Result<T, Error> {
        let path = call.path(ids);
        let response = self
            .send(call.method(), &self.url(&path), &path, None, false)
            .await?;
        decode(response).await
    }

    async fn write<T: DeserializeOwned>(
        &self,
        call: Call,
        ids: &[i64],
        body: &serde_json::Value,
    ) -> Result<T, Error> {
        let path = call.path(ids);
        let response = self
            .send(call.method(), &self.url(&path), &path, Some(body), false)
            .await?;
        decode(response).await
    }

    /// Every page of a list. The next page is the one the `Link: <…>; rel="next"` header
    /// announces, but only its `page` (or `pageId`) is taken: the request is rebuilt on this
    /// client's own base, so a link naming another codebase (ConnectWise writes the
    /// versioned one) or another host changes nothing and credentials never leave.
    async fn list<T: DeserializeOwned>(
        &self,
        call: Call,
        ids: &[i64],
        query: &ListQuery,
    ) -> Result<Listed<T>, Error> {
        let path = call.path(ids);
        let forward_only = match query.paging {
            Paging::ForwardOnly => true,
            Paging::Numbered => false,
            Paging::Auto => call.large() && query.order_by.is_none(),
        };
        if forward_only && query.order_by.is_some() {
            return Err(Error::Config(
                "forward-only paging cannot be ordered (ConnectWise refuses orderBy with it)"
                    .into(),
            ));
        }
        let mut fixed: Vec<(&str, String)> = Vec::new();
        if let Some(c) = &query.conditions {
            fixed.push(("conditions", c.as_str().to_owned()));
        }
        if let Some(c) = &query.custom_field_conditions {
            fixed.push(("customFieldConditions", c.as_str().to_owned()));
        }
        if !forward_only {
            fixed.push((
                "orderBy",
                query.order_by.clone().unwrap_or_else(|| "id asc".into()),
            ));
        }
        let size = query.page_size.unwrap_or(PAGE_SIZE).clamp(1, PAGE_SIZE);
        fixed.push(("pageSize", size.to_string()));
        let cursor_name = if forward_only { "pageId" } else { "page" };
        let mut cursor: Option<String> = (!forward_only).then(|| "1".into());
        let mut listed = Listed {
            items: Vec::new(),
            warnings: Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut url =
                reqwest::Url::parse(&self.url(&path)).map_err(|e| Error::Config(e.to_string()))?;
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in &fixed {
                    pairs.append_pair(k, v);
                }
                if let Some(cursor) = &cursor {
                    pairs.append_pair(cursor_name, cursor);
                }
            }
            let response = self
                .send(Method::GET, url.as_str(), &path, None, forward_only)
                .await?;
            let next = next_link(response.headers()).and_then(|l| link_param(&l, cursor_name));
            let rows: Vec<serde_json::Value> = decode(response).await?;
            for row in rows {
                let id = row.get("id").cloned();
                match serde_json::from_value::<T>(row) {
                    Ok(item) => listed.items.push(item),
                    Err(e) => listed.warnings.push(format!(
                        "{} row {} left out: {e}",
                        call.template(),
                        id.map(|v| v.to_string())
                            .unwrap_or_else(|| "without an id".into())
                    )),
                }
            }
            match next {
                // A link that repeats a page would loop for ever.
                Some(next) if seen.insert(next.clone()) => cursor = Some(next),
                _ => break,
            }
        }
        Ok(listed)
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header(AUTHORIZATION, self.auth.clone())
            .header("clientId", self.client_id.clone())
            .header(ACCEPT, self.accept.clone())
    }

    /// One logical call, with the retries the policy allows.
    async fn send(
        &self,
        method: Method,
        url: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        forward_only: bool,
    ) -> Result<reqwest::Response, Error> {
        let mut attempt = 0;
        loop {
            let mut request = self.request(method.clone(), url);
            if forward_only {
                request = request.header("pagination-type", "forward-only");
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let outcome = request.send().await;
            let unsent = matches!(&outcome, Err(e) if e.is_connect());
            let status = outcome.as_ref().ok().map(|r| r.status().as_u16());
            let (error, response) = self.outcome(&method, path, outcome).await;
            let Some(error) = error else {
                return response.ok_or_else(|| Error::Decode("no response".into()));
            };
            let safe_to_repeat =
                method != Method::POST || unsent || matches!(status, Some(408 | 429));
            let retryable = error.is_transient() && safe_to_repeat;
            if !retryable || attempt >= self.settings.retries {
                return Err(error);
            }
            let wait = match &error {
                Error::RateLimited {
                    retry_after: Some(wait),
                    ..
                } => {
                    if *wait > self.settings.max_retry_after {
                        return Err(error);
                    }
                    *wait
                }
                _ => self.backoff(attempt),
            };
            tracing::debug!(%method, path, attempt, ?wait, %error, "retrying ConnectWise call");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Decodes one exchange into success or our error type, and tells the observer.
    async fn outcome(
        &self,
        method: &Method,
        path: &str,
        outcome: Result<reqwest::Response, reqwest::Error>,
    ) -> (Option<Error>, Option<reqwest::Response>) {
        let response = match outcome {
            Ok(response) => response,
            Err(e) => {
                self.observe(method, path, 0);
                let error = if e.is_timeout() {
                    Error::Timeout(self.settings.request_timeout)
                } else {
                    Error::Unreachable(without_url(&e))
                };
                return (Some(error), None);
            }
        };
        let status = response.status();
        self.observe(method, path, status.as_u16());
        if status.is_success() {
            return (None, Some(response));
        }
        let retry_after = retry_after(response.headers());
        let bytes = response.bytes().await.unwrap_or_default();
        let message = ErrorBody::parse(&bytes).describe();
        let what = format!("{method} {path}");
        let error = match status.as_u16() {
            400 => Error::Rejected(format!("{what}: {message}")),
            401 => Error::Unauthorized(message),
            403 => Error::Forbidden { what, message },
            404 => Error::NotFound(what),
            409 => Error::Conflict(format!("{what}: {message}")),
            408 => Error::Timeout(self.settings.request_timeout),
            429 => Error::RateLimited {
                retry_after,
                message,
            },
            code @ 500..=599 => Error::Upstream {
                status: code,
                message,
            },
            code => Error::Rejected(format!("{what}: HTTP {code}: {message}")),
        };
        (Some(error), None)
    }

    fn observe(&self, method: &Method, path: &str, status: u16) {
        if let Some(observer) = &self.observer {
            observer(method, path, status);
        }
    }

    /// Exponential from `backoff_base`, capped at `backoff_max`, with jitter in [½, 1].
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .settings
            .backoff_base
            .saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(self.settings.backoff_max);
        capped.mul_f64(0.5 + rand::random::<f64>() / 2.0)
    }
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Error> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::Unreachable(without_url(&e)))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))
}

/// reqwest errors name the URL; ours never carry query strings with conditions in logs.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), url.path());
    }
    text
}

impl<T> Listed<T> {
    /// The rows, after logging the warnings (for lists whose callers have no one to tell).
    fn logged(self) -> Vec<T> {
        for warning in &self.warnings {
            tracing::warn!(%warning, "ConnectWise row left out");
        }
        self.items
    }
}

/// The value of `name` (`page` or `pageId`) in a link's query, if it has one.
fn link_param(link: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(link)
        .or_else(|_| reqwest::Url::parse("http://x/").and_then(|base| base.join(link)))
        .ok()?;
    url.query_pairs()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(LINK)?.to_str().ok()?;
    value.split(',').find_map(|part| {
        let part = part.trim();
        let rel_next = part.split(';').skip(1).any(|p| {
            p.trim().eq_ignore_ascii_case("rel=\"next\"")
                || p.trim().eq_ignore_ascii_case("rel=next")
        });
        let target = part.strip_prefix('<')?.split('>').next()?;
        rel_next.then(|| target.to_owned())
    })
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().to_owned();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(&value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("api-na.myconnectwise.net", None).unwrap(),
            "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
        );
        assert_eq!(
            base_url(
                "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0/",
                Some("v2025_1/")
            )
            .unwrap(),
            "https://api-eu.myconnectwise.net/v2025_1/apis/3.0"
        );
        assert_eq!(
            base_url("https://api-eu.myconnectwise.net/v2025_1/apis/3.0", None).unwrap(),
            "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0"
        );
        assert_eq!(
            base_url("http://127.0.0.1:9000", Some("v2025_1")).unwrap(),
            "http://127.0.0.1:9000/v2025_1/apis/3.0"
        );
        assert!(
            base_url("http://cw.example.com", None).is_err(),
            "plain http only locally"
        );
        assert!(base_url("cw.example.com/evil?x", None).is_err());
        assert!(base_url("", None).is_err());
        assert!(base_url("cw.example.com", Some("../admin")).is_err());
        assert!(base_url("cw.example.com", Some("")).is_err());
    }

    #[test]
    fn call_paths() {
        assert_eq!(
            Call::PatchAddition.path(&[12, 34]),
            "/finance/agreements/12/additions/34"
        );
        assert_eq!(Call::Companies.path(&[]), "/company/companies");
        assert_eq!(
            Call::CrossReferences.pattern(),
            "GET /company/managedDevicesIntegrations/{id}/crossReferences"
        );
        assert_eq!(
            Call::CreateAddition.pattern(),
            "POST /finance/agreements/{id}/additions"
        );
        let mut patterns: Vec<String> = Call::ALL.iter().map(|c| c.pattern()).collect();
        patterns.sort();
        patterns.dedup();
        assert_eq!(patterns.len(), Call::ALL.len(), "each call is one pattern");
    }

    /// Every ConnectWise path the client calls comes from `Call`, so the contract test's
    /// coverage of `Call::ALL` is coverage of the client. A path written anywhere else in
    /// this file (a string literal starting with `/` and a letter) fails here.
    #[test]
    fn no_path_outside_the_call_table() {
        let source = include_str!("client.rs");
        let table_start = source.find("fn template(self)").unwrap();
        let table_end = table_start + source[table_start..].find("\n    }\n").unwrap();
        let tests_start = source.find("#[cfg(test)]").unwrap();
        let outside = [&source[..table_start], &source[table_end..tests_start]];
        let mut stray = Vec::new();
        for part in outside {
            for (i, _) in part.match_indices("\"/") {
                let next = part[i + 2..].chars().next().unwrap_or(' ');
                if next.is_ascii_alphabetic() {
                    stray.push(part[i..].lines().next().unwrap_or_default().to_owned());
                }
            }
        }
        assert!(
            stray.is_empty(),
            "paths outside Call::template: {stray:?}; add a Call (and cover it in tests/api/contract.rs)"
        );
    }

    #[test]
    fn next_page_parameters_from_any_codebase() {
        let link =
            "https://na.myconnectwise.net/v2025_1/apis/3.0/company/companies?pageSize=1000&page=3";
        assert_eq!(link_param(link, "page").as_deref(), Some("3"));
        assert_eq!(link_param(link, "pageId"), None);
        let link = "/v2025_1/apis/3.0/company/companies?pageSize=2&pageId=250";
        assert_eq!(link_param(link, "pageId").as_deref(), Some("250"));
    }

    #[test]
    fn link_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            HeaderValue::from_static(
                "<https://x/apis/3.0/company/companies?page=1>; rel=\"first\", <https://x/apis/3.0/company/companies?page=3>; rel=\"next\", <https://x/apis/3.0/company/companies?page=9>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://x/apis/3.0/company/companies?page=3")
        );
        headers.insert(
            LINK,
            HeaderValue::from_static("<https://x/a?page=1>; rel=\"first\""),
        );
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a past date means now"
        );
    }
}
