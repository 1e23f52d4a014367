//! The tenant's ConnectWise request budget: at most N calls started per second, shared by
//! every task of a push.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces ConnectWise calls to at most so many per second.
pub struct Limiter {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Limiter {
    /// `None` is unlimited.
    pub fn new(per_second: Option<u32>) -> Self {
        Limiter {
            interval: per_second
                .filter(|n| *n > 0)
                .map(|n| Duration::from_secs(1) / n),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this call's turn.
    pub async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_calls_evenly() {
        let limiter = Limiter::new(Some(10));
        let start = Instant::now();
        for _ in 0..21 {
            limiter.acquire().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(2),
            "20 intervals of 100 ms"
        );
        let unlimited = Limiter::new(None);
        let start = Instant::now();
        for _ in 0..100 {
            unlimited.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
