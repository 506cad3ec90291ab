//! `xuncha gen`: determinism, the committed sample inbox, the answer key's
//! coverage, and generated ID numbers checked by a peer (python-stdnum).

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).expect("prefix").to_string_lossy().into_owned(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn same_seed_gives_byte_identical_inboxes() {
    let a = scratch("gen-a");
    let b = scratch("gen-b");
    for dir in [&a, &b] {
        xuncha_ok(&["gen", "--scale", "sample", "--seed", "99", "--out", dir.to_str().unwrap()]);
    }
    let (fa, fb) = (files(&a), files(&b));
    assert!(fa.len() > 50, "{} files", fa.len());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between two runs with one seed");
    }
    let c = scratch("gen-c");
    xuncha_ok(&["gen", "--scale", "sample", "--seed", "100", "--out", c.to_str().unwrap()]);
    assert_ne!(files(&c)["answer_key.csv"], fa["answer_key.csv"], "another seed, another world");
}

#[test]
fn the_committed_sample_inbox_is_what_gen_writes() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let fresh = generated("sample");
    let (a, b) = (files(&committed), files(fresh));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "regenerate with scripts/make-samples");
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "data-samples/{name} is stale: regenerate with scripts/make-samples");
    }
    let size: usize = a.values().map(Vec::len).sum();
    assert!(size < 15 << 20, "data-samples is {size} bytes");
}

#[test]
fn the_answer_key_covers_every_rule_at_sample_scale() {
    let key = read_csv(&generated("sample").join("answer_key.csv"));
    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    for row in &key {
        *per_rule.entry(row[0].clone()).or_default() += 1;
    }
    for rule in xuncha_core::contract::RULE_IDS {
        let n = per_rule.get(*rule).copied().unwrap_or(0);
        assert!(n >= 3, "{rule}: {n} entities");
    }
    let unique: BTreeSet<&Vec<String>> = key.iter().collect();
    assert_eq!(unique.len(), key.len(), "no entity twice");
}
