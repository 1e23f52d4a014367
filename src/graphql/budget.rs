//! Each tenant's budget of ConnectWise calls made by reads: the preview, the connection
//! test, the syncs and the codebase lookup of `connectPsa`. The field cost (`cost.rs`)
//! already allows each of them once per operation; the budget bounds how often a tenant
//! may ask, whatever the operations, tokens or replicas. Pushes are not counted: they are
//! bounded by the schedule, one run at a time and the tenant's request rate.
//!
//! A read starts only while the budget has calls left; the calls it made are charged when
//! it ends (or is dropped by a timeout), since nobody knows beforehand how many a preview
//! needs.

use async_graphql::Context;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{pusher, scope};
use crate::error::{AppError, AppResult};
use crate::limits::RateLimiter;
use crate::push::Pusher;

/// The limiter, as schema data.
#[derive(Clone)]
pub struct Reads(pub Arc<RateLimiter>);

/// Runs `read` with a [`Pusher`] whose ConnectWise calls are counted, once the tenant's
/// budget allows it, and charges the calls it made.
pub async fn read<T, F, Fut>(ctx: &Context<'_>, read: F) -> AppResult<T>
where
    F: FnOnce(Pusher) -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    let limiter = ctx.data_unchecked::<Reads>().0.clone();
    let key = scope(ctx).tenant_id().to_string();
    if let Err(retry_after) = limiter.ready(&key).await {
        return Err(AppError::RateLimited {
            message: "this tenant's budget of ConnectWise calls for previews, tests and syncs is spent for now; retry after the retryAfter seconds".into(),
            retry_after,
        });
    }
    let charge = Charge {
        limiter,
        key,
        calls: Arc::new(AtomicU64::new(0)),
    };
    let mut counted = pusher(ctx).clone();
    counted.psa = counted.psa.counted(charge.calls.clone());
    let result = read(counted).await;
    charge.settle().await;
    result
}

/// The calls a read made, charged when it ends — or, should the read be dropped half-way
/// (a timeout), when this is dropped.
struct Charge {
    limiter: Arc<RateLimiter>,
    key: String,
    calls: Arc<AtomicU64>,
}

impl Charge {
    async fn settle(&self) {
        let calls = self.calls.swap(0, Ordering::Relaxed);
        self.limiter.charge(&self.key, calls).await;
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        let calls = self.calls.swap(0, Ordering::Relaxed);
        if calls == 0 {
            return;
        }
        let (limiter, key) = (self.limiter.clone(), std::mem::take(&mut self.key));
        // Off the dropping task: it may be a request being torn down.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { limiter.charge(&key, calls).await });
        }
    }
}
