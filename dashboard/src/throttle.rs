//! Login throttling: five failed logins for a name lock it for 15 minutes
//! (each attempt counted *before* its password is checked, under one lock,
//! so a burst of parallel guesses gets five tries, not forty), and failed
//! logins are audited at most [`AUDITED_FAILURES_PER_MINUTE`] a minute, the
//! rest counted in one entry.

use std::time::{Duration, Instant};

const MAX_FAILURES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Failed or locked logins written to the audit log per minute at most.
pub(crate) const AUDITED_FAILURES_PER_MINUTE: u32 = 30;
/// Names whose failures are remembered at most (an attacker trying random
/// names cannot grow the table without bound).
const MAX_TRACKED_NAMES: usize = 10_000;

/// Failed logins by name, and the audit budget for them.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    /// Name → (failures counted, time of the last).
    by_name: std::collections::HashMap<String, (u32, Instant)>,
    /// The current minute's audited failures, and those left unaudited.
    audit_window: Option<(Instant, u32, u32)>,
}

impl Failures {
    /// Counts an attempt for `name` before its password is checked; `false`
    /// when the name is locked.
    pub(crate) fn reserve(&mut self, name: &str, now: Instant) -> bool {
        if self.by_name.len() >= MAX_TRACKED_NAMES {
            self.by_name.retain(|_, (_, last)| now.duration_since(*last) < LOCKOUT);
        }
        if self.by_name.len() >= MAX_TRACKED_NAMES && !self.by_name.contains_key(name) {
            // Every slot holds a live lock: count this name with the oldest.
            if let Some(oldest) = self.by_name.iter().min_by_key(|(_, (_, last))| *last).map(|(k, _)| k.clone()) {
                self.by_name.remove(&oldest);
            }
        }
        let entry = self.by_name.entry(name.to_string()).or_insert((0, now));
        if now.duration_since(entry.1) >= LOCKOUT {
            *entry = (0, now);
        }
        if entry.0 >= MAX_FAILURES {
            return false;
        }
        *entry = (entry.0 + 1, now);
        true
    }

    /// A successful login clears its name.
    pub(crate) fn clear(&mut self, name: &str) {
        self.by_name.remove(name);
    }

    /// Whether this failure may be audited; when a new minute starts after
    /// some were not, their count to write first.
    pub(crate) fn audit_budget(&mut self, now: Instant) -> (bool, Option<u32>) {
        let (start, audited, skipped) = self.audit_window.get_or_insert((now, 0, 0));
        let mut overflow = None;
        if now.duration_since(*start) >= Duration::from_secs(60) {
            overflow = (*skipped > 0).then_some(*skipped);
            (*start, *audited, *skipped) = (now, 0, 0);
        }
        if *audited < AUDITED_FAILURES_PER_MINUTE {
            *audited += 1;
            (true, overflow)
        } else {
            *skipped += 1;
            (false, overflow)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_before_the_check_and_the_audit_is_budgeted() {
        let mut f = Failures::default();
        let now = Instant::now();
        assert_eq!((0..40).filter(|_| f.reserve("leader", now)).count(), 5, "a burst gets five tries");
        assert!(!f.reserve("leader", now + Duration::from_secs(60)), "locked");
        assert!(f.reserve("leader", now + LOCKOUT + Duration::from_secs(1)), "unlocked after the lockout");
        f.clear("leader");
        assert!(f.reserve("leader", now));
        let audited = (0..100).filter(|_| f.audit_budget(now).0).count();
        assert_eq!(audited, AUDITED_FAILURES_PER_MINUTE as usize);
        assert_eq!(f.audit_budget(now + Duration::from_secs(61)), (true, Some(70)), "the next minute says how many went unaudited");
        for i in 0..(MAX_TRACKED_NAMES + 50) {
            f.reserve(&format!("n{i}"), now);
        }
        assert!(f.by_name.len() <= MAX_TRACKED_NAMES, "random names cannot grow the table");
    }
}
