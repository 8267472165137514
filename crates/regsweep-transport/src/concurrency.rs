//! Requests in flight at once, lowered when a server says it is getting too many
//! (GitHub's secondary limit, a registry's 429) and restored slowly after.
//!
//! [`AdaptiveConcurrency::lower`] halves the limit (never below one);
//! every [`crate::defaults::CONCURRENCY_RESTORE_AFTER`] successes in a row at a
//! lowered limit raise it by one, up to the configured maximum. Lowering while
//! requests are in flight takes effect as their permits come back.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::defaults::CONCURRENCY_RESTORE_AFTER;

#[derive(Debug)]
struct State {
    limit: usize,
    /// Permits to retire as they come back (lowered while they were in flight).
    debt: usize,
    streak: u32,
}

#[derive(Debug)]
struct Shared {
    max: usize,
    semaphore: Arc<Semaphore>,
    state: Mutex<State>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A concurrency limit shared by the clones of one client.
#[derive(Clone, Debug)]
pub struct AdaptiveConcurrency {
    shared: Arc<Shared>,
}

/// One request's slot; given back when dropped.
#[derive(Debug)]
pub struct Permit {
    permit: Option<OwnedSemaphorePermit>,
    shared: Arc<Shared>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut st = lock(&self.shared.state);
        if st.debt > 0 {
            st.debt -= 1;
            permit.forget();
        }
    }
}

impl AdaptiveConcurrency {
    /// At most `max` requests at once (at least one).
    pub fn new(max: usize) -> AdaptiveConcurrency {
        let max = max.max(1);
        AdaptiveConcurrency {
            shared: Arc::new(Shared {
                max,
                semaphore: Arc::new(Semaphore::new(max)),
                state: Mutex::new(State {
                    limit: max,
                    debt: 0,
                    streak: 0,
                }),
            }),
        }
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Permit {
        // The semaphore is never closed.
        let permit = Arc::clone(&self.shared.semaphore)
            .acquire_owned()
            .await
            .ok();
        Permit {
            permit,
            shared: Arc::clone(&self.shared),
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        lock(&self.shared.state).limit
    }

    /// The server said too many requests: halve the limit. Returns the old and new
    /// limits when it changed (for the log).
    pub fn lower(&self) -> Option<(usize, usize)> {
        let mut st = lock(&self.shared.state);
        st.streak = 0;
        let old = st.limit;
        let new = (old / 2).max(1);
        if new == old {
            return None;
        }
        st.limit = new;
        let retire = old - new;
        let forgotten = self.shared.semaphore.forget_permits(retire);
        st.debt += retire - forgotten;
        Some((old, new))
    }

    /// An answer that was not "too many": counts toward restoring the limit.
    /// Returns the new limit when it was raised.
    pub fn on_success(&self) -> Option<usize> {
        let mut st = lock(&self.shared.state);
        if st.limit >= self.shared.max {
            return None;
        }
        st.streak += 1;
        if st.streak < CONCURRENCY_RESTORE_AFTER {
            return None;
        }
        st.streak = 0;
        st.limit += 1;
        if st.debt > 0 {
            st.debt -= 1;
        } else {
            self.shared.semaphore.add_permits(1);
        }
        Some(st.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lowers_by_half_and_restores_slowly() {
        let c = AdaptiveConcurrency::new(8);
        assert_eq!(c.lower(), Some((8, 4)));
        assert_eq!(c.shared.semaphore.available_permits(), 4);
        assert_eq!(c.lower(), Some((4, 2)));
        assert_eq!(c.lower(), Some((2, 1)));
        assert_eq!(c.lower(), None);
        for _ in 0..CONCURRENCY_RESTORE_AFTER - 1 {
            assert_eq!(c.on_success(), None);
        }
        assert_eq!(c.on_success(), Some(2));
        assert_eq!(c.shared.semaphore.available_permits(), 2);
        for _ in 0..CONCURRENCY_RESTORE_AFTER * 10 {
            c.on_success();
        }
        assert_eq!(c.limit(), 8);
        assert_eq!(c.on_success(), None);
    }

    #[tokio::test]
    async fn lowering_with_permits_out_retires_them_on_return() {
        let c = AdaptiveConcurrency::new(4);
        let held: Vec<_> = futures::future::join_all((0..4).map(|_| c.acquire())).await;
        assert_eq!(c.lower(), Some((4, 2)));
        drop(held);
        assert_eq!(c.shared.semaphore.available_permits(), 2);
        let a = c.acquire().await;
        let b = c.acquire().await;
        assert_eq!(c.shared.semaphore.available_permits(), 0);
        drop((a, b));
        assert_eq!(c.shared.semaphore.available_permits(), 2);
    }
}
