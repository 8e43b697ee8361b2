//! Aggregates kept between requests: computing the weekly report or the overview reads much
//! of a large store, while what they show changes only when a run is recorded or pruned or a
//! risk accepted ([`rampart_store::Store::data_version`]). An entry is used while the store's
//! version is the one it was computed at and it is under [`MAX_AGE`] old (the report's period
//! ends when it was computed, so it slides at most that much). One computation per cache runs
//! at a time: concurrent requests for a missing entry wait for it instead of repeating it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an entry is used while the store does not change.
pub const MAX_AGE: Duration = Duration::from_secs(60);

pub type Version = [i64; 4];

struct Entry<T> {
    version: Version,
    at: Instant,
    value: Arc<T>,
}

pub struct Cache<K, T> {
    entries: tokio::sync::Mutex<HashMap<K, Entry<T>>>,
}

impl<K, T> Default for Cache<K, T> {
    fn default() -> Self {
        Cache {
            entries: tokio::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, T> Cache<K, T> {
    /// The entry for `key` if it is current at `version`, else what `compute` returns (kept).
    pub async fn get_or<E, F>(&self, key: K, version: Version, compute: F) -> Result<Arc<T>, E>
    where
        F: AsyncFnOnce() -> Result<T, E>,
    {
        let mut entries = self.entries.lock().await;
        if let Some(e) = entries.get(&key)
            && e.version == version
            && e.at.elapsed() < MAX_AGE
        {
            return Ok(e.value.clone());
        }
        let value = Arc::new(compute().await?);
        // Entries of older versions are of no further use.
        entries.retain(|_, e| e.version == version);
        entries.insert(
            key,
            Entry {
                version,
                at: Instant::now(),
                value: value.clone(),
            },
        );
        Ok(value)
    }
}

/// The server's caches.
#[derive(Default)]
pub struct Caches {
    pub overview: Cache<(), crate::api::Overview>,
    pub accounts: Cache<(), Vec<crate::api::AccountView>>,
    /// The Prometheus text of `/metrics`.
    pub metrics: Cache<(), String>,
    /// By weeks back.
    pub weekly: Cache<i64, rampart_report::weekly::WeeklyReport>,
    /// The same reports rendered, by (weeks back, format): rendering the JSON of a large
    /// organization's report took longer than building the rest of the response.
    pub weekly_text: Cache<(i64, u8), String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_live_until_the_version_changes() {
        let cache: Cache<u8, u32> = Cache::default();
        let computed = std::cell::Cell::new(0);
        let get = async |key: u8, version: Version| {
            cache
                .get_or(key, version, async || {
                    computed.set(computed.get() + 1);
                    Ok::<_, ()>(computed.get())
                })
                .await
                .unwrap()
        };
        assert_eq!(*get(1, [1, 1, 0, 0]).await, 1);
        assert_eq!(*get(1, [1, 1, 0, 0]).await, 1, "kept");
        assert_eq!(*get(2, [1, 1, 0, 0]).await, 2, "another key");
        assert_eq!(*get(1, [2, 2, 0, 0]).await, 3, "a new run: computed again");
        assert_eq!(
            *get(1, [2, 2, 1, 5]).await,
            4,
            "an acceptance: computed again"
        );
        assert_eq!(*get(1, [2, 2, 1, 5]).await, 4);
    }
}
