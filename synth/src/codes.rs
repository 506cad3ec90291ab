//! Code generators shared by the synthetic world: unique ID numbers, unified
//! social credit codes with their GB 32100 check character, bank card numbers
//! with a Luhn digit, and licence plates.

use chrono::NaiveDate;
use rand::Rng;
use std::collections::HashSet;
use xuncha_core::values::id_check_digit;

/// Hands out ID numbers no one else has.
#[derive(Debug, Default)]
pub(crate) struct IdAllocator {
    used: HashSet<u64>,
    accounts: u64,
    plates: u64,
    credit: u64,
}

impl IdAllocator {
    /// A GB 11643 number for someone born on `birth` in `region`, with the
    /// sequence's parity telling the sex (odd for men).
    pub(crate) fn person_id(&mut self, rng: &mut impl Rng, region: &str, birth: NaiveDate, male: bool) -> String {
        loop {
            let seq = rng.random_range(0..500u32) * 2 + u32::from(male);
            let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            if self.used.insert(body.parse().expect("17 digits")) {
                let check = id_check_digit(&body).expect("17 digits");
                return format!("{body}{check}");
            }
        }
    }

    /// A 19-digit 一卡通 account number with a Luhn check digit.
    pub(crate) fn bank_account(&mut self) -> String {
        self.accounts += 1;
        let body = format!("621799{:012}", self.accounts * 7919 % 1_000_000_000_000);
        format!("{body}{}", luhn_digit(&body))
    }

    /// A Hunan-B plate (`湘B` and five letters or digits).
    pub(crate) fn plate(&mut self) -> String {
        const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        self.plates += 1;
        let mut n = self.plates * 104_729 % 45_435_424; // 34^5, a prime stride
        let mut tail = [0u8; 5];
        for slot in tail.iter_mut().rev() {
            *slot = CHARS[(n % 34) as usize];
            n /= 34;
        }
        format!("湘B{}", String::from_utf8_lossy(&tail))
    }

    /// A unified social credit code: `kind` (`91` company, `92` sole trader,
    /// `11` agency, `12` public institution), the region, an organization
    /// code with its GB 11714 check, and the GB 32100 check character.
    pub(crate) fn credit_code(&mut self, kind: &str, region: &str) -> String {
        self.credit += 1;
        let org = format!("{:08}", (self.credit * 7_368_787) % 100_000_000);
        let body = format!("{kind}{region}{org}{}", org_check(&org));
        format!("{body}{}", credit_check(&body))
    }
}

fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn org_check(org8: &str) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = org8.bytes().zip(W).map(|(b, w)| u32::from(b - b'0') * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    }
}

const CREDIT_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn credit_check(body17: &str) -> char {
    const W: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let sum: u32 = body17.bytes().zip(W).map(|(b, w)| CREDIT_CHARS.iter().position(|c| *c == b).expect("credit code character") as u32 * w).sum();
    CREDIT_CHARS[((31 - sum % 31) % 31) as usize] as char
}

/// Whether a unified social credit code's check character is right.
#[cfg(test)]
fn credit_code_valid(code: &str) -> bool {
    code.len() == 18 && code.is_ascii() && code.bytes().all(|b| CREDIT_CHARS.contains(&b)) && credit_check(&code[..17]) == code.as_bytes()[17] as char
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut ids = IdAllocator::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let birth = NaiveDate::from_ymd_opt(1950, 3, 7).unwrap();
        let mut seen = HashSet::new();
        for i in 0..900 {
            let id = ids.person_id(&mut rng, "430223", birth, i % 2 == 0);
            assert!(xuncha_core::values::id_valid(&id), "{id}");
            assert_eq!(id.as_bytes()[16] % 2 == 1, i % 2 == 0, "sex digit of {id}");
            assert!(seen.insert(id));
        }
        let accounts: HashSet<String> = (0..1000).map(|_| ids.bank_account()).collect();
        assert_eq!(accounts.len(), 1000);
        let plates: HashSet<String> = (0..1000).map(|_| ids.plate()).collect();
        assert_eq!(plates.len(), 1000);
        for _ in 0..100 {
            assert!(credit_code_valid(&ids.credit_code("91", "430223")));
        }
        // A published example code.
        assert!(credit_code_valid("91350100M000100Y43"));
    }
}
