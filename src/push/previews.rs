//! Recent previews, per tenant and service, so that paging through a preview of thousands
//! of lines reads ConnectWise once rather than once per page. An entry is reused for
//! [`FRESH_FOR`] unless the caller asks for a fresh one; a run that finishes on this replica
//! forgets its tenant's entries (what it wrote changes the plan). Each replica keeps its
//! own: a preview is a read, and a stale one only shows what a refresh would correct.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::push::Line;

/// How long a preview is reused.
pub const FRESH_FOR: chrono::Duration = chrono::Duration::seconds(60);

/// Entries kept at most (previews of thousands of lines are megabytes).
const CAPACITY: usize = 32;

/// One computed plan.
pub struct Preview {
    pub computed_at: DateTime<Utc>,
    pub lines: Vec<Line>,
}

type Key = (i64, Option<i64>);

#[derive(Default)]
pub struct Previews {
    entries: Mutex<HashMap<Key, Arc<Preview>>>,
}

impl Previews {
    /// The tenant's preview of the service (all services: `None`), while fresh at `now`.
    pub fn get(
        &self,
        tenant: i64,
        service: Option<i64>,
        now: DateTime<Utc>,
    ) -> Option<Arc<Preview>> {
        let entries = self.entries.lock().expect("previews lock");
        entries
            .get(&(tenant, service))
            .filter(|p| fresh(p, now))
            .cloned()
    }

    /// Keeps `preview`, dropping stale entries (and, when full, the oldest).
    pub fn put(
        &self,
        tenant: i64,
        service: Option<i64>,
        preview: Preview,
        now: DateTime<Utc>,
    ) -> Arc<Preview> {
        let preview = Arc::new(preview);
        let mut entries = self.entries.lock().expect("previews lock");
        entries.retain(|_, p| fresh(p, now));
        if entries.len() >= CAPACITY
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, p)| p.computed_at)
                .map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        entries.insert((tenant, service), preview.clone());
        preview
    }

    /// Forgets the tenant's previews (a run changed ConnectWise).
    pub fn forget(&self, tenant: i64) {
        let mut entries = self.entries.lock().expect("previews lock");
        entries.retain(|(t, _), _| *t != tenant);
    }
}

fn fresh(preview: &Preview, now: DateTime<Utc>) -> bool {
    now - preview.computed_at < FRESH_FOR
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("time")
    }

    fn preview(seconds: i64) -> Preview {
        Preview {
            computed_at: at(seconds),
            lines: Vec::new(),
        }
    }

    #[test]
    fn an_entry_is_reused_while_fresh_and_only_for_its_tenant_and_service() {
        let previews = Previews::default();
        previews.put(1, None, preview(0), at(0));
        assert!(previews.get(1, None, at(59)).is_some());
        assert!(
            previews.get(1, None, at(60)).is_none(),
            "stale after FRESH_FOR"
        );
        assert!(previews.get(2, None, at(1)).is_none(), "another tenant");
        assert!(previews.get(1, Some(7), at(1)).is_none(), "another service");
    }

    #[test]
    fn forgetting_a_tenant_keeps_the_others() {
        let previews = Previews::default();
        previews.put(1, None, preview(0), at(0));
        previews.put(1, Some(3), preview(0), at(0));
        previews.put(2, None, preview(0), at(0));
        previews.forget(1);
        assert!(previews.get(1, None, at(1)).is_none());
        assert!(previews.get(1, Some(3), at(1)).is_none());
        assert!(previews.get(2, None, at(1)).is_some());
    }

    #[test]
    fn a_full_cache_drops_the_oldest() {
        let previews = Previews::default();
        for tenant in 0..CAPACITY as i64 {
            previews.put(tenant, None, preview(tenant), at(tenant));
        }
        previews.put(99, None, preview(40), at(40));
        assert!(previews.get(0, None, at(40)).is_none(), "the oldest went");
        assert!(previews.get(1, None, at(40)).is_some());
        assert!(previews.get(99, None, at(40)).is_some());
    }
}
