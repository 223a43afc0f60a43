//! Who a token is, remembered for a few seconds. Every request presents a token, and reading its
//! session, account and grants took three queries before any work began. A caller read from the
//! database is kept for `FRESH`; any change to accounts, grants or sessions on this server forgets
//! them all at once, so here a revoked grant, a disabled account or a logout counts from the next
//! request. Another server sharing the database learns of such a change within `FRESH` — the bound
//! on how long a revocation takes to reach every server.
//!
//! What is remembered is opaque here (`accounts` puts and gets its `Caller`), so that the query
//! layer holding this needs nothing from the scope above it.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a caller read from the database is used without reading it again.
pub const FRESH: Duration = Duration::from_secs(5);

/// Beyond this many tokens remembered, the stale ones are dropped.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct Callers {
    /// Bumped by every change that can alter who a token is or what it reaches.
    epoch: AtomicU64,
    known: Mutex<HashMap<Vec<u8>, Known>>,
}

impl std::fmt::Debug for Callers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callers")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

struct Known {
    caller: Arc<dyn Any + Send + Sync>,
    read_at: Instant,
    epoch: u64,
}

impl Callers {
    /// What was remembered for a token's hash, if read from the database within `FRESH` and
    /// nothing changed since.
    pub(crate) fn get<T: Clone + 'static>(&self, hash: &[u8]) -> Option<T> {
        let epoch = self.epoch.load(Ordering::Acquire);
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let k = known.get(hash)?;
        if k.epoch != epoch || k.read_at.elapsed() >= FRESH {
            return None;
        }
        k.caller.downcast_ref::<T>().cloned()
    }

    /// Remembers what was just read for a token, unless something changed while it was read
    /// (`epoch` is the value taken before the read).
    pub(crate) fn put<T: Send + Sync + 'static>(&self, hash: Vec<u8>, caller: T, epoch: u64) {
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= SWEEP_ABOVE {
            known.retain(|_, k| k.read_at.elapsed() < FRESH);
        }
        let known_now = Known {
            caller: Arc::new(caller),
            read_at: Instant::now(),
            epoch,
        };
        known.insert(hash, known_now);
    }

    /// The epoch to pass to `put` for a read starting now.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Forgets every caller: after any change to accounts, grants, sessions or tokens.
    pub fn forget(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.known.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_is_remembered_until_anything_changes() {
        let callers = Callers::default();
        assert!(callers.get::<String>(b"t").is_none());
        callers.put(b"t".to_vec(), "someone".to_string(), callers.epoch());
        assert_eq!(callers.get::<String>(b"t").as_deref(), Some("someone"));
        callers.forget();
        assert!(callers.get::<String>(b"t").is_none(), "a change forgets it");
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_remembered() {
        let callers = Callers::default();
        let before = callers.epoch();
        callers.forget();
        callers.put(b"t".to_vec(), "someone".to_string(), before);
        assert!(callers.get::<String>(b"t").is_none());
    }
}
