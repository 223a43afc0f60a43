//! Password hashing (argon2id, about 19 MiB and tens of milliseconds each) runs on a few threads of
//! its own, one hash per thread at a time, so that memory stays at threads × 19 MiB under any login
//! load: a flood of logins queues here instead of allocating a hash's memory per request (64
//! parallel logins once took the server to 8 GB). Whoever waits longer than `MAX_WAIT` is refused
//! with `auth.busy` and may try again.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::error::{Error, Result};

/// How long a login waits for a hashing thread before it is refused.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    jobs: mpsc::Sender<Job>,
    slots: Arc<tokio::sync::Semaphore>,
}

/// Threads: the cores, at most four (each holds 19 MiB while it hashes).
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4)
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let n = threads();
        for i in 0..n {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("starting a password hashing thread");
        }
        Pool {
            jobs: tx,
            slots: Arc::new(tokio::sync::Semaphore::new(n)),
        }
    })
}

/// Runs one hashing job on the pool, waiting at most `MAX_WAIT` for a free thread.
pub async fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let pool = pool();
    let slot = tokio::time::timeout(MAX_WAIT, pool.slots.clone().acquire_owned())
        .await
        .map_err(|_| Error::Refused("auth.busy"))?
        .map_err(|_| Error::Refused("auth.busy"))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    pool.jobs
        .send(Box::new(move || {
            let _ = tx.send(job());
            drop(slot);
        }))
        .map_err(|_| Error::Refused("auth.busy"))?;
    rx.await.map_err(|_| Error::Refused("auth.busy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_more_than_the_pool_runs_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let jobs = (0..12).map(|_| {
            run(|| {
                let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                MOST.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                RUNNING.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for r in futures_join(jobs).await {
            r.unwrap();
        }
        assert!(MOST.load(Ordering::SeqCst) <= threads());
    }

    async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
    where
        F: Send + 'static,
        F::Output: Send + 'static,
    {
        let handles: Vec<_> = fs.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}
