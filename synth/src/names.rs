//! Chinese personal names for the synthetic world.
//!
//! Surnames follow the frequencies of the 2020 census (the top 60 cover about
//! 80% of the population, 王/李/张/刘/陈 about 30%); given names are one or two
//! characters drawn from pools that differ by sex and generation (elderly
//! women 秀英/桂兰, younger people 浩然/欣怡). About 0.3% of people carry a
//! minority name written with a middle dot (`阿依古丽·买买提`).

use rand::Rng;
use rand::seq::IndexedRandom;

/// Surnames with their weight in per-mille of the population.
const SURNAMES: &[(&str, u32)] = &[
    ("王", 74),
    ("李", 72),
    ("张", 69),
    ("刘", 55),
    ("陈", 54),
    ("杨", 31),
    ("黄", 24),
    ("赵", 20),
    ("吴", 19),
    ("周", 19),
    ("徐", 13),
    ("孙", 12),
    ("马", 12),
    ("朱", 11),
    ("胡", 11),
    ("郭", 10),
    ("何", 10),
    ("林", 9),
    ("罗", 9),
    ("高", 9),
    ("郑", 8),
    ("梁", 7),
    ("谢", 7),
    ("宋", 6),
    ("唐", 6),
    ("许", 6),
    ("韩", 6),
    ("邓", 5),
    ("冯", 5),
    ("曹", 5),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 5),
    ("董", 4),
    ("潘", 4),
    ("袁", 4),
    ("蔡", 4),
    ("蒋", 4),
    ("余", 4),
    ("于", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("魏", 4),
    ("苏", 4),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("卢", 3),
    ("姚", 3),
    ("沈", 3),
    ("钟", 3),
    ("姜", 3),
    ("崔", 3),
    ("谭", 3),
    ("陆", 3),
    ("范", 3),
    ("汪", 3),
    ("廖", 3),
    ("石", 3),
    ("金", 3),
    ("贺", 2),
    ("龙", 2),
    ("易", 2),
    ("文", 2),
    ("欧阳", 1),
    ("颜", 2),
];

const MALE_OLD: &[&str] = &[
    "建国", "建华", "国强", "国华", "志强", "德明", "永福", "光明", "保国", "桂生", "福林", "长生", "春生", "金山", "德胜", "树林", "有才", "振华", "文华", "学军", "卫东", "红兵", "新民", "庆丰",
    "海", "军", "明", "勇", "林", "华",
];
const MALE_YOUNG: &[&str] = &[
    "伟", "强", "磊", "洋", "勇", "杰", "涛", "斌", "超", "鹏", "浩然", "子轩", "宇航", "俊杰", "志伟", "文博", "家豪", "思远", "晨阳", "一鸣", "浩宇", "明轩", "天佑", "博文", "嘉诚", "建军", "小龙",
    "海涛", "国栋", "志刚",
];
const FEMALE_OLD: &[&str] =
    &["秀英", "桂英", "秀兰", "玉兰", "桂兰", "淑珍", "凤英", "玉珍", "秀珍", "桂芝", "玉梅", "翠花", "春梅", "冬梅", "金凤", "素珍", "兰英", "月娥", "爱华", "菊香", "英", "珍", "兰", "梅", "芳"];
const FEMALE_YOUNG: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "婷", "雪", "欣怡", "梓涵", "诗涵", "雨萱", "子涵", "佳怡", "思琪", "晓燕", "丽娟", "海燕", "红梅", "美玲", "晶晶", "婉婷", "雅琪", "梦瑶", "慧敏", "春燕",
    "玉洁", "丹", "霞", "琳",
];
const MINORITY_GIVEN: &[&str] = &["阿依古丽", "古丽娜尔", "艾力", "买买提", "热依拉", "吐尔洪", "努尔", "帕提古丽", "阿卜杜"];
const MINORITY_FAMILY: &[&str] = &["买买提", "吐尔逊", "阿不都", "艾买提", "依明", "热合曼"];

/// A surname drawn by frequency.
pub(crate) fn surname(rng: &mut impl Rng) -> &'static str {
    let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (name, weight) in SURNAMES {
        if pick < *weight {
            return name;
        }
        pick -= weight;
    }
    SURNAMES[0].0
}

/// A given name for someone of this sex born in `birth_year`.
pub(crate) fn given_name(rng: &mut impl Rng, male: bool, birth_year: i32) -> &'static str {
    let old = birth_year < 1965;
    let pool = match (male, old) {
        (true, true) => MALE_OLD,
        (true, false) => MALE_YOUNG,
        (false, true) => FEMALE_OLD,
        (false, false) => FEMALE_YOUNG,
    };
    pool.choose(rng).copied().unwrap_or("明")
}

/// A full name; a few are minority names with a middle dot.
pub(crate) fn full_name(rng: &mut impl Rng, surname: &str, male: bool, birth_year: i32) -> String {
    if rng.random_bool(0.003) {
        let given = MINORITY_GIVEN.choose(rng).copied().unwrap_or("艾力");
        let family = MINORITY_FAMILY.choose(rng).copied().unwrap_or("买买提");
        return format!("{given}·{family}");
    }
    format!("{surname}{}", given_name(rng, male, birth_year))
}

/// A look-alike character for a typo in a name (张伟 → 张玮).
pub(crate) fn misspell(name: &str, rng: &mut impl Rng) -> String {
    const SWAPS: &[(char, char)] = &[
        ('伟', '玮'),
        ('华', '桦'),
        ('明', '铭'),
        ('英', '瑛'),
        ('兰', '岚'),
        ('珍', '贞'),
        ('国', '果'),
        ('强', '墙'),
        ('芳', '方'),
        ('丽', '莉'),
        ('军', '君'),
        ('林', '琳'),
        ('梅', '枚'),
        ('秀', '绣'),
        ('建', '健'),
        ('生', '升'),
    ];
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate().rev() {
        if let Some((_, to)) = SWAPS.iter().find(|(from, _)| from == c) {
            let mut out = chars.clone();
            out[i] = *to;
            return out.into_iter().collect();
        }
    }
    let extra = ['一', '小', '德'].choose(rng).copied().unwrap_or('小');
    let mut out = chars;
    out.insert(out.len().min(1), extra);
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use xuncha_core::values::normalize_name;

    #[test]
    fn a_misspelling_is_a_different_name() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for name in ["张伟", "王秀英", "李", "阿依古丽·买买提"] {
            assert_ne!(normalize_name(&misspell(name, &mut rng)), normalize_name(name));
        }
    }

    #[test]
    fn surnames_follow_frequencies() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let wang = (0..10_000).filter(|_| surname(&mut rng) == "王").count();
        assert!((500..1000).contains(&wang), "王 {wang} of 10000");
    }
}
