//! Who a token is, remembered for a few seconds. Every request presents a token, and reading its
//! session, account and grants took three queries before any work began (most of a roster
//! page's cost: see `hongji bench`). A caller read from the database is kept for `FRESH`; any
//! change to accounts, grants or sessions on this server forgets them all at once, so here a
//! revoked grant, a disabled account or a logout counts from the next request. Another server
//! sharing the database learns of such a change within `FRESH` — the bound on how long a
//! revocation takes to reach every server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::scope::Caller;

/// How long a caller read from the database is used without reading it again.
pub const FRESH: Duration = Duration::from_secs(5);

/// Beyond this many tokens remembered, the stale ones are dropped.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct Callers {
    /// Bumped by every change that can alter who a token is or what it reaches.
    epoch: AtomicU64,
    known: Mutex<HashMap<Vec<u8>, Known>>,
}

#[derive(Debug)]
struct Known {
    caller: Caller,
    read_at: Instant,
    epoch: u64,
}

impl Callers {
    /// The caller behind a token's hash, if read from the database within `FRESH` and nothing
    /// changed since; the request's address is the one given.
    pub(crate) fn get(&self, hash: &[u8], ip: &str) -> Option<Caller> {
        let epoch = self.epoch.load(Ordering::Acquire);
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let k = known.get(hash)?;
        (k.epoch == epoch && k.read_at.elapsed() < FRESH).then(|| Caller {
            ip: ip.to_string(),
            ..k.caller.clone()
        })
    }

    /// Remembers a caller just read, unless something changed while it was read (`epoch` is the
    /// value taken before the read).
    pub(crate) fn put(&self, hash: Vec<u8>, caller: &Caller, epoch: u64) {
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= SWEEP_ABOVE {
            known.retain(|_, k| k.read_at.elapsed() < FRESH);
        }
        let caller = caller.clone();
        known.insert(
            hash,
            Known {
                caller,
                read_at: Instant::now(),
                epoch,
            },
        );
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

    fn someone() -> Caller {
        Caller {
            ip: "10.0.0.1".into(),
            ..Caller::system("test")
        }
    }

    #[test]
    fn a_caller_is_remembered_until_anything_changes() {
        let callers = Callers::default();
        assert!(callers.get(b"t", "1.2.3.4").is_none());
        callers.put(b"t".to_vec(), &someone(), callers.epoch());
        let again = callers.get(b"t", "1.2.3.4").expect("remembered");
        assert_eq!((again.username.as_str(), again.ip.as_str()), ("cli:test", "1.2.3.4"));
        callers.forget();
        assert!(callers.get(b"t", "1.2.3.4").is_none(), "a change forgets it");
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_remembered() {
        let callers = Callers::default();
        let before = callers.epoch();
        callers.forget();
        callers.put(b"t".to_vec(), &someone(), before);
        assert!(callers.get(b"t", "ip").is_none());
    }
}
