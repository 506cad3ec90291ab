//! `id_valid` against a peer implementation, python-stdnum's `stdnum.cn.ric`,
//! on 100,000 random and mutated inputs. GB 11643 validity here is length,
//! format, a real birth date and the check digit; stdnum also refuses a
//! region code that did not exist in the birth year (InvalidComponent), so
//! for those only the birth date is compared.

use crate::common::python3;
use xuncha_core::values::{id_check_digit, id_valid};

/// A small deterministic generator (xorshift) so the inputs are the same on
/// every run.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

fn inputs(count: usize) -> Vec<String> {
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let regions = ["430223", "110101", "440305", "510104", "999999", "000000"];
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let region = regions[rng.below(regions.len() as u64) as usize];
        let year = 1900 + rng.below(130);
        let month = 1 + rng.below(12);
        let day = 1 + rng.below(31);
        let body = format!("{region}{year:04}{month:02}{day:02}{}", rng.digits(3));
        let valid = format!("{body}{}", id_check_digit(&body).expect("17 digits"));
        let mutated = match rng.below(10) {
            0 | 1 => valid,
            2 => {
                let mut chars: Vec<char> = valid.chars().collect();
                let i = rng.below(18) as usize;
                chars[i] = char::from(b'0' + rng.below(10) as u8);
                chars.into_iter().collect()
            }
            3 => {
                let mut chars: Vec<char> = valid.chars().collect();
                let i = rng.below(17) as usize;
                chars.swap(i, i + 1);
                chars.into_iter().collect()
            }
            4 => format!("{body}{}", ['0', '1', '5', '9', 'X'][rng.below(5) as usize]),
            5 => valid[..17 - rng.below(3) as usize].to_string(),
            6 => {
                let extra = 1 + rng.below(2) as usize;
                format!("{valid}{}", rng.digits(extra))
            }
            7 => format!("{region}{year:04}{:02}{:02}{}", rng.below(14), rng.below(33), rng.digits(4)),
            8 => {
                let mut chars: Vec<char> = valid.chars().collect();
                let i = rng.below(17) as usize;
                chars[i] = ['A', 'X', 'B'][rng.below(3) as usize];
                chars.into_iter().collect()
            }
            _ => {
                let len = if rng.below(2) == 0 { 18 } else { 15 };
                rng.digits(len)
            }
        };
        out.push(mutated);
    }
    out
}

const CLASSIFY: &str = r#"
import sys
from stdnum.cn import ric
from stdnum.exceptions import InvalidLength, InvalidFormat, InvalidChecksum, InvalidComponent
out = []
for line in open(sys.argv[1]):
    n = line.strip()
    try:
        ric.validate(n)
        out.append("V")
    except InvalidLength:
        out.append("L")
    except InvalidFormat:
        out.append("F")
    except InvalidChecksum:
        out.append("C")
    except Exception:
        # InvalidComponent, or a failure inside stdnum's region lookup: the
        # region is not part of GB 11643 validity, the birth date is.
        try:
            ric.get_birth_date(n)
            out.append("R")
        except Exception:
            out.append("D")
print("".join(out))
"#;

#[test]
fn id_valid_agrees_with_python_stdnum_on_100k_inputs() {
    let inputs = inputs(100_000);
    let dir = crate::common::scratch("ids");
    let file = dir.join("ids.txt");
    std::fs::write(&file, inputs.join("\n")).unwrap();
    let out = python3().args(["-c", CLASSIFY, file.to_str().unwrap()]).output().expect("python3 with python-stdnum (scripts/setup)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verdicts: Vec<char> = String::from_utf8_lossy(&out.stdout).trim().chars().collect();
    assert_eq!(verdicts.len(), inputs.len());
    let mut disagreements = Vec::new();
    let mut kinds = std::collections::BTreeMap::new();
    for (input, verdict) in inputs.iter().zip(&verdicts) {
        *kinds.entry(*verdict).or_insert(0) += 1;
        let peer_valid = matches!(verdict, 'V' | 'R');
        if id_valid(input) != peer_valid {
            disagreements.push(format!("{input}: ours {}, stdnum {verdict}", id_valid(input)));
        }
    }
    assert!(disagreements.is_empty(), "{} disagreements, e.g. {:?}", disagreements.len(), &disagreements[..disagreements.len().min(5)]);
    for kind in ['V', 'L', 'F', 'C', 'D', 'R'] {
        assert!(kinds.get(&kind).copied().unwrap_or(0) > 100, "too few inputs of kind {kind}: {kinds:?}");
    }
}
