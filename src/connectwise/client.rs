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
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, LINK, RETRY_AFTER};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

use super::conditions::Condition;
use super::error::{Error, ErrorBody};
use super::model::*;

/// The largest page ConnectWise serves.
pub const PAGE_SIZE: u32 = 1000;
const API_PATH: &str = "/v4_6_release/apis/3.0";

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
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("site", &self.site)
            .field("company_id", &self.company_id)
            .field("public_key", &self.public_key)
            .field("private_key", &"***")
            .field("client_id", &self.client_id)
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
    settings: Settings,
    observer: Option<CallObserver>,
}

/// Filters and order for a list call.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub conditions: Option<Condition>,
    pub custom_field_conditions: Option<Condition>,
    pub order_by: Option<String>,
}

impl ListQuery {
    pub fn conditions(conditions: Condition) -> Self {
        ListQuery {
            conditions: Some(conditions),
            ..Default::default()
        }
    }
}

/// The API base URL for a site: `https://{site}/v4_6_release/apis/3.0`, or plain HTTP for
/// a sandbox on this machine.
pub fn base_url(site: &str) -> Result<String, Error> {
    let site = site.trim().trim_end_matches('/');
    let site = site.strip_suffix(API_PATH).unwrap_or(site);
    if site.starts_with("http://") {
        let url =
            reqwest::Url::parse(site).map_err(|e| Error::Config(format!("site {site:?}: {e}")))?;
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if local && url.path() == "/" && url.query().is_none() {
            return Ok(format!("{site}{API_PATH}"));
        }
        return Err(Error::Config(format!(
            "site {site:?}: plain http is only allowed for a sandbox on this machine; use the host name (https)"
        )));
    }
    let host = site.strip_prefix("https://").unwrap_or(site);
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !valid {
        return Err(Error::Config(format!(
            "site {site:?} is not a host name like api-na.myconnectwise.net"
        )));
    }
    Ok(format!("https://{host}{API_PATH}"))
}

impl Client {
    pub fn new(credentials: &Credentials, settings: Settings) -> Result<Client, Error> {
        let base = base_url(&credentials.site)?;
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
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("billbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            auth,
            client_id,
            settings,
            observer: None,
        })
    }

    pub fn with_observer(mut self, observer: CallObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The cheapest authenticated call: proves reachability and credentials.
    pub async fn system_info(&self) -> Result<SystemInfo, Error> {
        self.get("/system/info").await
    }

    pub async fn companies(&self, query: ListQuery) -> Result<Vec<Company>, Error> {
        self.list("/company/companies", &query).await
    }

    pub async fn agreements(&self, query: ListQuery) -> Result<Vec<Agreement>, Error> {
        self.list("/finance/agreements", &query).await
    }

    pub async fn agreement_types(&self, query: ListQuery) -> Result<Vec<AgreementType>, Error> {
        self.list("/finance/agreements/types", &query).await
    }

    pub async fn additions(
        &self,
        agreement_id: i64,
        query: ListQuery,
    ) -> Result<Vec<Addition>, Error> {
        self.list(
            &format!("/finance/agreements/{agreement_id}/additions"),
            &query,
        )
        .await
    }

    pub async fn addition(&self, agreement_id: i64, addition_id: i64) -> Result<Addition, Error> {
        self.get(&format!(
            "/finance/agreements/{agreement_id}/additions/{addition_id}"
        ))
        .await
    }

    pub async fn create_addition(
        &self,
        agreement_id: i64,
        addition: &NewAddition,
    ) -> Result<Addition, Error> {
        let body = serde_json::to_value(addition).map_err(|e| Error::Decode(e.to_string()))?;
        let path = format!("/finance/agreements/{agreement_id}/additions");
        let response = self
            .send(Method::POST, &self.url(&path), &path, Some(&body))
            .await?;
        decode(response).await
    }

    /// Sets (never adds to) an addition's quantity with a JSON Patch `replace`.
    pub async fn set_addition_quantity(
        &self,
        agreement_id: i64,
        addition_id: i64,
        quantity: f64,
    ) -> Result<Addition, Error> {
        let body = serde_json::json!([{ "op": "replace", "path": "quantity", "value": quantity }]);
        let path = format!("/finance/agreements/{agreement_id}/additions/{addition_id}");
        let response = self
            .send(Method::PATCH, &self.url(&path), &path, Some(&body))
            .await?;
        decode(response).await
    }

    pub async fn catalog(&self, query: ListQuery) -> Result<Vec<CatalogItem>, Error> {
        self.list("/procurement/catalog", &query).await
    }

    pub async fn managed_devices_integrations(
        &self,
    ) -> Result<Vec<ManagedDevicesIntegration>, Error> {
        self.list("/company/managedDevicesIntegrations", &ListQuery::default())
            .await
    }

    pub async fn cross_references(
        &self,
        integration_id: i64,
    ) -> Result<Vec<CrossReference>, Error> {
        self.list(
            &format!("/company/managedDevicesIntegrations/{integration_id}/crossReferences"),
            &ListQuery::default(),
        )
        .await
    }

    /// Calls `path` once with `method` and no retries, to see whether the security role
    /// allows it. A 404 means allowed (the record just does not exist).
    pub async fn probe(&self, method: Method, path: &str) -> Result<(), Error> {
        let body = (method == Method::PATCH).then(|| serde_json::json!([]));
        let mut request = self.request(method.clone(), &self.url(path));
        if let Some(body) = &body {
            request = request.json(body);
        }
        let outcome = request.send().await;
        let (error, _) = self.outcome(&method, path, outcome).await;
        match error {
            None | Some(Error::NotFound(_)) | Some(Error::Rejected(_)) => Ok(()),
            Some(error) => Err(error),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let response = self.send(Method::GET, &self.url(path), path, None).await?;
        decode(response).await
    }

    /// Every page of a list, following `Link: <…>; rel="next"`.
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
    ) -> Result<Vec<T>, Error> {
        let mut url =
            reqwest::Url::parse(&self.url(path)).map_err(|e| Error::Config(e.to_string()))?;
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(c) = &query.conditions {
                pairs.append_pair("conditions", c.as_str());
            }
            if let Some(c) = &query.custom_field_conditions {
                pairs.append_pair("customFieldConditions", c.as_str());
            }
            pairs.append_pair("orderBy", query.order_by.as_deref().unwrap_or("id asc"));
            pairs.append_pair("pageSize", &PAGE_SIZE.to_string());
            pairs.append_pair("page", "1");
        }
        let mut all = Vec::new();
        let mut next = Some(url.to_string());
        while let Some(page_url) = next.take() {
            let response = self.send(Method::GET, &page_url, path, None).await?;
            let link = next_link(response.headers());
            let page: Vec<T> = decode(response).await?;
            all.extend(page);
            if let Some(link) = link {
                // Credentials go only where they were meant for.
                if !link.starts_with(&self.base) {
                    return Err(Error::Decode(format!(
                        "next page {link:?} is not on {}",
                        self.base
                    )));
                }
                next = Some(link);
            }
        }
        Ok(all)
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header(AUTHORIZATION, self.auth.clone())
            .header("clientId", self.client_id.clone())
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// One logical call, with the retries the policy allows.
    async fn send(
        &self,
        method: Method,
        url: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, Error> {
        let mut attempt = 0;
        loop {
            let mut request = self.request(method.clone(), url);
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
        let body: ErrorBody = response.json().await.unwrap_or_default();
        let message = body.describe();
        let what = format!("{method} {path}");
        let error = match status.as_u16() {
            400 => Error::Rejected(format!("{what}: {message}")),
            401 => Error::Unauthorized(message),
            403 => Error::Forbidden { what, message },
            404 => Error::NotFound(what),
            409 => Error::Conflict(format!("{what}: {message}")),
            408 => Error::Timeout(self.settings.request_timeout),
            429 => Error::RateLimited { retry_after },
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
            base_url("api-na.myconnectwise.net").unwrap(),
            "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
        );
        assert_eq!(
            base_url("https://api-eu.myconnectwise.net/v4_6_release/apis/3.0/").unwrap(),
            "https://api-eu.myconnectwise.net/v4_6_release/apis/3.0"
        );
        assert_eq!(
            base_url("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000/v4_6_release/apis/3.0"
        );
        assert!(
            base_url("http://cw.example.com").is_err(),
            "plain http only locally"
        );
        assert!(base_url("cw.example.com/evil?x").is_err());
        assert!(base_url("").is_err());
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
