//! Login throttling, so that logins cannot be used as a weapon:
//!
//! - **Per address and name**: five failed logins for one name from one
//!   address lock that pair for 15 minutes. The lock is per address, so a
//!   stranger guessing a user's password never locks the user out of their
//!   own machine; attempts of one pair run one at a time (a burst of forty
//!   parallel guesses gets five tries, and eight parallel logins with the
//!   right password all succeed, in turn).
//! - **Per address**: thirty failed logins from one address, for any names,
//!   lock the address for 15 minutes (spraying names or passwords).
//! - **Password hashing**: argon2 takes ~19 MiB and tens of milliseconds a
//!   hash, so at most [`HASHING_SLOTS`] hashes run at once and
//!   [`HASHING_QUEUE`] wait; a login beyond that is answered 429 before any
//!   hashing (hundreds of concurrent logins cannot grow the process).
//!
//! Failed logins are audited at most [`AUDITED_FAILURES_PER_MINUTE`] a
//! minute, the rest counted in one entry. Behind a reverse proxy every
//! client has the proxy's address: put the throttling in the proxy too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_FAILURES: u32 = 5;
const MAX_ADDRESS_FAILURES: u32 = 30;
const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Password hashes computed at once.
pub(crate) const HASHING_SLOTS: usize = 2;
/// Logins waiting for a hashing slot at most.
pub(crate) const HASHING_QUEUE: usize = 16;
/// Failed or locked logins written to the audit log per minute at most.
pub(crate) const AUDITED_FAILURES_PER_MINUTE: u32 = 30;
/// Pairs and addresses remembered at most (an attacker trying random
/// names cannot grow the tables without bound).
const MAX_TRACKED: usize = 10_000;

/// One pair's or address's failures: how many, the last, and (for a pair)
/// the lock its attempts take in turn.
#[derive(Debug, Clone)]
struct Count {
    failures: u32,
    last: Instant,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Count {
    fn new(now: Instant) -> Count {
        Count { failures: 0, last: now, turn: Arc::default() }
    }

    /// The failures still counting at `now` (none after the lockout).
    fn live(&mut self, now: Instant) -> u32 {
        if now.duration_since(self.last) >= LOCKOUT {
            self.failures = 0;
        }
        self.failures
    }
}

/// Why a login is refused before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// This name from this address.
    NameLocked,
    /// This address, for any name.
    AddressLocked,
}

/// Failed logins by (address, name) and by address, and the audit budget for them.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    by_pair: HashMap<(IpAddr, String), Count>,
    by_address: HashMap<IpAddr, Count>,
    audit: AuditBudget,
}

/// How many refusals of one kind the audit log takes a minute: the first
/// [`AUDITED_FAILURES_PER_MINUTE`] one by one, the rest counted in one
/// entry when the next minute starts (nobody fills the disk by being refused).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AuditBudget {
    /// The current minute's start, entries audited and entries left out.
    window: Option<(Instant, u32, u32)>,
}

impl AuditBudget {
    /// Whether this refusal may be audited; when a new minute starts after
    /// some were not, their count to write first.
    pub(crate) fn take(&mut self, now: Instant) -> (bool, Option<u32>) {
        let (start, audited, skipped) = self.window.get_or_insert((now, 0, 0));
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

/// Refused case actions by user, each user with its own audit budget.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    by_user: HashMap<String, AuditBudget>,
}

impl Refusals {
    /// The budget's answer for one more refusal of `user` (see [`AuditBudget::take`]).
    pub(crate) fn take(&mut self, user: &str, now: Instant) -> (bool, Option<u32>) {
        if self.by_user.len() >= MAX_TRACKED && !self.by_user.contains_key(user) {
            self.by_user.retain(|_, b| b.window.is_some_and(|(start, _, skipped)| skipped > 0 || now.duration_since(start) < Duration::from_secs(60)));
            if self.by_user.len() >= MAX_TRACKED {
                self.by_user.clear();
            }
        }
        self.by_user.entry(user.to_string()).or_default().take(now)
    }
}

/// Keeps a table under [`MAX_TRACKED`] entries: the expired go first, then the oldest.
fn make_room<K: Clone + Eq + std::hash::Hash>(table: &mut HashMap<K, Count>, key: &K, now: Instant) {
    if table.len() < MAX_TRACKED || table.contains_key(key) {
        return;
    }
    table.retain(|_, c| now.duration_since(c.last) < LOCKOUT);
    if table.len() >= MAX_TRACKED
        && let Some(oldest) = table.iter().min_by_key(|(_, c)| c.last).map(|(k, _)| k.clone())
    {
        table.remove(&oldest);
    }
}

impl Failures {
    /// The lock a pair's attempts take in turn (hold it while checking the
    /// password and recording the outcome).
    pub(crate) fn turn(&mut self, address: IpAddr, name: &str, now: Instant) -> Arc<tokio::sync::Mutex<()>> {
        let key = (address, name.to_string());
        make_room(&mut self.by_pair, &key, now);
        self.by_pair.entry(key).or_insert_with(|| Count::new(now)).turn.clone()
    }

    /// Whether a login of `name` from `address` may check its password now.
    pub(crate) fn admit(&mut self, address: IpAddr, name: &str, now: Instant) -> Result<(), Refusal> {
        if self.by_address.get_mut(&address).is_some_and(|c| c.live(now) >= MAX_ADDRESS_FAILURES) {
            return Err(Refusal::AddressLocked);
        }
        if self.by_pair.get_mut(&(address, name.to_string())).is_some_and(|c| c.live(now) >= MAX_FAILURES) {
            return Err(Refusal::NameLocked);
        }
        Ok(())
    }

    /// A wrong password for `name` from `address`.
    pub(crate) fn failed(&mut self, address: IpAddr, name: &str, now: Instant) {
        let key = (address, name.to_string());
        make_room(&mut self.by_pair, &key, now);
        make_room(&mut self.by_address, &address, now);
        for count in [self.by_pair.entry(key).or_insert_with(|| Count::new(now)), self.by_address.entry(address).or_insert_with(|| Count::new(now))] {
            count.failures = count.live(now) + 1;
            count.last = now;
        }
    }

    /// A successful login clears its pair (not its address: one good
    /// account does not reset an address's guesses at others).
    pub(crate) fn succeeded(&mut self, address: IpAddr, name: &str) {
        if let Some(count) = self.by_pair.get_mut(&(address, name.to_string())) {
            count.failures = 0;
        }
    }

    /// Whether this failure may be audited (see [`AuditBudget::take`]).
    pub(crate) fn audit_budget(&mut self, now: Instant) -> (bool, Option<u32>) {
        self.audit.take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_addresses_lock_and_strangers_lock_out_no_one() {
        let mut f = Failures::default();
        let now = Instant::now();
        let (here, there): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert_eq!(f.admit(here, "admin", now), Ok(()));
            f.failed(here, "admin", now);
        }
        assert_eq!(f.admit(here, "admin", now + Duration::from_secs(60)), Err(Refusal::NameLocked));
        assert_eq!(f.admit(there, "admin", now), Ok(()), "the real admin elsewhere is not locked out");
        assert_eq!(f.admit(here, "admin", now + LOCKOUT + Duration::from_secs(1)), Ok(()), "unlocked after the lockout");
        // Spraying names from one address.
        for i in 0..MAX_ADDRESS_FAILURES {
            f.failed(there, &format!("n{i}"), now);
        }
        assert_eq!(f.admit(there, "someone", now), Err(Refusal::AddressLocked));
        f.succeeded(here, "admin");
        assert_eq!(f.admit(here, "admin", now), Ok(()));
        let audited = (0..100).filter(|_| f.audit_budget(now).0).count();
        assert_eq!(audited, AUDITED_FAILURES_PER_MINUTE as usize);
        assert_eq!(f.audit_budget(now + Duration::from_secs(61)), (true, Some(70)), "the next minute says how many went unaudited");
        for i in 0..(MAX_TRACKED + 50) {
            f.failed(IpAddr::from([10, 1, (i >> 8) as u8, i as u8]), &format!("n{i}"), now);
        }
        assert!(f.by_pair.len() <= MAX_TRACKED && f.by_address.len() <= MAX_TRACKED, "random names and addresses cannot grow the tables");
        let mut refusals = Refusals::default();
        assert_eq!((0..100).filter(|_| refusals.take("unit_a", now).0).count(), AUDITED_FAILURES_PER_MINUTE as usize, "one user's refusals are budgeted");
        assert!(refusals.take("unit_b", now).0, "another user has a budget of its own");
        assert_eq!(refusals.take("unit_a", now + Duration::from_secs(61)), (true, Some(70)));
    }
}
