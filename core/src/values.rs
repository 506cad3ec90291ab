//! Typing one cell as departments type it (CONTRACT §1 "Values arrive as…"),
//! and the identity helpers every layer shares: GB 11643 check digits, the
//! 15 → 18 upgrade, and the name normalization of CONTRACT §3.
//!
//! Each parser returns the canonical value or a short Chinese explanation of
//! what was expected, which ingest puts into the quarantine reason.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use std::borrow::Cow;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// A month, if `month` is 1..=12.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        (1..=12).contains(&month).then_some(Month { year, month })
    }

    /// The month containing `date`.
    pub fn of(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day() - Duration::days(1)
    }

    /// The following month.
    pub fn next(self) -> Month {
        self.plus(1)
    }

    /// The month `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Month {
        let index = self.year * 12 + self.month as i32 - 1 + n;
        Month { year: index.div_euclid(12), month: index.rem_euclid(12) as u32 + 1 }
    }

    /// Months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: Month) -> i32 {
        (later.year - self.year) * 12 + later.month as i32 - self.month as i32
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Whether `text` plainly starts with a character that is not white space,
/// told by its first byte: printable ASCII, or a character from U+4000 on
/// (Chinese and beyond; the last white space is U+3000). `false` where the
/// byte cannot tell.
pub fn starts_unspaced(text: &str) -> bool {
    text.as_bytes().first().is_some_and(|b| b.is_ascii_graphic() || *b >= 0xE4)
}

/// Whether `text` plainly ends with a character that is not white space
/// (see [`starts_unspaced`]), told by the first byte of its last character.
fn ends_unspaced(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.last() {
        Some(b) if b.is_ascii() => b.is_ascii_graphic(),
        // The lead byte of the last character: not 0b10xxxxxx.
        Some(_) => bytes.iter().rev().take(4).find(|b| (**b as i8) >= -0x40).is_some_and(|lead| *lead >= 0xE4),
        None => false,
    }
}

/// Whether `text` plainly has no white space at either end, told by its
/// first and last characters' lead bytes (most values: see [`trim`]).
pub fn is_plainly_trimmed(text: &str) -> bool {
    starts_unspaced(text) && ends_unspaced(text)
}

/// `text` without white space at either end; its characters are looked at
/// only when its first and last bytes cannot tell (most values have none).
pub fn trim(text: &str) -> &str {
    if is_plainly_trimmed(text) { text } else { text.trim() }
}

/// The first `chars` characters of `text`, and when it is longer, how
/// many characters it has in all: every message that quotes a delivered
/// value or file name is bounded this way (a cell can hold megabytes).
/// Control characters (a line break in a file name) are shown escaped.
pub fn excerpt(text: &str, chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for c in text.chars() {
        if count < chars {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        count += 1;
    }
    if count > chars {
        out.push_str(&format!("…(共 {count} 个字符)"));
    }
    out
}

/// A delivered value quoted in a message: at most 200 characters.
pub fn quoted(text: &str) -> String {
    format!("「{}」", excerpt(text, 200))
}

/// NFKC, trimmed: full-width digits, letters, spaces and punctuation become
/// their ASCII forms before any parsing.
pub fn clean(raw: &str) -> Cow<'_, str> {
    // ASCII, and most Chinese text, is already in NFKC: no copy then.
    if raw.is_ascii() || is_nfkc_quick(raw.chars()) == IsNormalized::Yes {
        return Cow::Borrowed(raw.trim());
    }
    Cow::Owned(raw.nfkc().collect::<String>().trim().to_string())
}

/// Splits `s` into its runs of ASCII digits, requiring the separators between
/// them to be exactly `seps` (`None` for "no further text").
fn digit_runs(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).collect()
}

/// The date an Excel serial number stands for (1900 date system).
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    // Excel counts the fictitious 1900-02-29 (serial 60); 1899-12-30 + serial
    // is right from serial 61 on, and 1899-12-31 + serial before it.
    let base = if days < 61 { (1899, 12, 31) } else { (1899, 12, 30) };
    NaiveDate::from_ymd_opt(base.0, base.1, base.2)?.checked_add_signed(Duration::days(days))
}

/// The serial numbers a number in a date column may plausibly be: the
/// days from 1927-05-18 (10000) to 2100-12-31 (73415). A smaller number is
/// a year (`2019`), a month (`2019.03`) or a slip, never a date anyone
/// keeps in these registers as a bare number.
pub const PLAUSIBLE_SERIALS: std::ops::RangeInclusive<f64> = 10_000.0..=73_415.0;

/// A year (`2019`), a month (`201903`, `2019.03`, `2019.3`) written where a
/// date belongs, if `text` is one: what it is, for the message.
fn year_or_month(text: &str) -> Option<&'static str> {
    let year = |y: &str| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) && (1900..=2100).contains(&y.parse::<i32>().unwrap_or(0));
    let month = |m: &str| !m.is_empty() && m.len() <= 2 && m.bytes().all(|b| b.is_ascii_digit()) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0));
    if year(text) {
        return Some("年份");
    }
    if text.len() == 6 && text.is_char_boundary(4) && year(&text[..4]) && month(&text[4..]) {
        return Some("年月");
    }
    match text.split_once('.') {
        Some((y, m)) if year(y) && month(m) => Some("年月"),
        _ => None,
    }
}

/// Parses a date: `2024-03-05`, `2024/3/5`, `2024.03.05`, `20240305`,
/// `2024年3月5日`, a date-time whose time part is ignored, or an Excel
/// serial within [`PLAUSIBLE_SERIALS`]. A year or a month (`2019`,
/// `2019.03`, `201903`) is refused, never read as a serial.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    if let Some(date) = canonical_date(raw) {
        return Ok(date);
    }
    let s = clean(raw);
    let fail = || Err(format!("{}不是有效日期(应为 2024-03-05、2024/3/5、2024年3月5日 等)", quoted(&s)));
    if s.is_empty() {
        return fail();
    }
    let date_part = s.split([' ', 'T']).next().unwrap_or_default();
    if let Some(what) = year_or_month(date_part) {
        return Err(format!("{}是{what},不是具体日期;这一列要填到日(如 2019-03-01),请核实后重新报送", quoted(&s)));
    }
    let serial = |serial: f64| {
        if !PLAUSIBLE_SERIALS.contains(&serial) {
            let seen = excel_serial_date(serial).map(|d| format!("(按 Excel 日期是 {d})")).unwrap_or_default();
            return Err(format!("{}作为 Excel 日期序号不合理{seen};这一列要填具体日期(如 2019-03-01),请核实后重新报送", quoted(&s)));
        }
        excel_serial_date(serial).map_or_else(fail, Ok)
    };
    if date_part.chars().all(|c| c.is_ascii_digit()) {
        return match date_part.len() {
            8 => ymd(&date_part[0..4], &date_part[4..6], &date_part[6..8]).map_or_else(fail, Ok),
            1..=5 => serial(date_part.parse::<f64>().unwrap_or(0.0)),
            _ => fail(),
        };
    }
    if let Ok(number) = date_part.parse::<f64>()
        && date_part.len() <= 12
        && !date_part.contains(['-', '/'])
        && date_part.matches('.').count() == 1
        && date_part.split('.').next().is_some_and(|i| i.len() <= 5)
    {
        return serial(number);
    }
    let well_formed = date_part.chars().all(|c| c.is_ascii_digit() || "-/.年月日".contains(c));
    let runs = digit_runs(date_part);
    if !well_formed || runs.len() != 3 || runs[0].len() != 4 || runs[1].len() > 2 || runs[2].len() > 2 {
        return fail();
    }
    if date_part.contains('年') && !(date_part.contains('月')) {
        return fail();
    }
    ymd(runs[0], runs[1], runs[2]).map_or_else(fail, Ok)
}

/// A date in the lake's own spelling (`2024-03-05`), read without the
/// general parser's allocations; `None` for any other text.
fn canonical_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |digits: &[u8]| digits.iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')));
    NaiveDate::from_ymd_opt(number(&b[..4])? as i32, number(&b[5..7])?, number(&b[8..])?)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Parses a month: `2024-03`, `2024/03`, `2024/3`, `2024.03`, `202403`,
/// `2024年3月`, or a full date (its month). `2024.1` is refused: a
/// spreadsheet keeps October typed as the number 2024.10 as `2024.1`.
pub fn parse_month(raw: &str) -> Result<Month, String> {
    let s = clean(raw);
    let fail = || Err(format!("{}不是有效月份(应为 2024-03、202403、2024年3月 等)", quoted(&s)));
    if s.len() == 6 && s.ends_with(".1") && s[..4].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{}分不清是 1 月还是 10 月(表格会把 {}.10 存成 {s});请写成 {}-01 或 {}-10 后重新报送", quoted(&s), &s[..4], &s[..4], &s[..4]));
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return match s.len() {
            6 => s[0..4].parse().ok().zip(s[4..6].parse().ok()).and_then(|(y, m)| Month::new(y, m)).map_or_else(fail, Ok),
            8 => parse_date(&s).map(Month::of).or_else(|_| fail()),
            _ => fail(),
        };
    }
    let well_formed = s.chars().all(|c| c.is_ascii_digit() || "-/.年月日".contains(c));
    let runs = digit_runs(&s);
    if !well_formed || runs.first().is_none_or(|y| y.len() != 4) {
        return fail();
    }
    match runs.len() {
        2 if runs[1].len() <= 2 => Month::new(runs[0].parse().unwrap_or(0), runs[1].parse().unwrap_or(0)).map_or_else(fail, Ok),
        3 => parse_date(&s).map(Month::of).or_else(|_| fail()),
        _ => fail(),
    }
}

/// Whether `s` is a month in the lake's own spelling (`2024-03`): typing
/// keeps such text as it is instead of parsing and printing it again.
pub fn is_canonical_month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7 && b[4] == b'-' && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) && (1..=12).contains(&((b[5] - b'0') * 10 + (b[6] - b'0')))
}

/// Parses yuan: thousands separators, a `元` suffix and full-width digits are
/// accepted; more than two decimals is refused rather than rounded.
pub fn parse_money(raw: &str) -> Result<Decimal, String> {
    if let Some(value) = plain_money(raw) {
        return Ok(value);
    }
    let value = parse_amount(raw)?;
    exact_money(value).map_err(|why| format!("{}{why}", quoted(&clean(raw))))
}

/// Parses an amount written as [`parse_money`] takes it, with any number of
/// decimals (an amount in 万元 has six to the cent): the caller scales it
/// and checks it is exact.
pub fn parse_amount(raw: &str) -> Result<Decimal, String> {
    let s = clean(raw);
    let fail = || Err(format!("{}不是有效金额(应为数字,如 1,350.00 或 430元)", quoted(&s)));
    let body = s.strip_suffix('元').unwrap_or(&s).trim();
    let body = body.strip_prefix('¥').unwrap_or(body).trim();
    if body.is_empty() {
        return fail();
    }
    let (sign, digits) = match body.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", body),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let int_ok = if int_part.contains(',') {
        let groups: Vec<&str> = int_part.split(',').collect();
        (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3)
    } else {
        !int_part.is_empty()
    };
    let all_digits = |t: &str| t.chars().all(|c| c.is_ascii_digit() || c == ',');
    if !int_ok || !all_digits(int_part) || frac_part.is_some_and(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_digit())) {
        return fail();
    }
    let text = format!("{sign}{}{}", int_part.replace(',', ""), frac_part.map(|f| format!(".{f}")).unwrap_or_default());
    text.parse().or_else(|_| fail())
}

/// Yuan as the lake's money type stores them: cents (Decimal(18,2)).
pub fn money_cents(raw: &str) -> Result<i128, String> {
    let mut value = parse_money(raw)?;
    value.rescale(2);
    Ok(value.mantissa())
}

/// The largest amount the lake's money type, Decimal(18,2), holds.
pub const MONEY_MAX: Decimal = Decimal::from_parts(0xA763_FFFF, 0x0DE0_B6B3, 0, false, 2);

/// `value` at two decimals, if it has no more (trailing zeros aside) and
/// fits Decimal(18,2): never rounded, never wrapped.
pub fn exact_money(mut value: Decimal) -> Result<Decimal, String> {
    value = value.normalize();
    if value.scale() > 2 {
        return Err("的金额超过两位小数(金额只能精确到分)".into());
    }
    if value.abs() > MONEY_MAX {
        return Err(format!("超出了金额能保存的范围(最多 16 位整数,即 {MONEY_MAX} 元);是否把身份证号、账号等填进了金额列?"));
    }
    value.rescale(2);
    Ok(value)
}

/// Yuan written plainly (`-1350`, `1350.5`, `1350.00`: ASCII digits, at most
/// two decimals, no separators), read without the general parser's
/// allocations; `None` for any other text.
fn plain_money(s: &str) -> Option<Decimal> {
    let (negative, body) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    let (int_part, frac_part) = match body.iter().position(|b| *b == b'.') {
        Some(dot) => (&body[..dot], &body[dot + 1..]),
        None => (body, &b""[..]),
    };
    if int_part.is_empty() || int_part.len() > 15 || frac_part.len() > 2 || (frac_part.is_empty() && body.len() != int_part.len()) {
        return None;
    }
    let mut cents: i64 = 0;
    for d in int_part.iter().chain(frac_part).chain(std::iter::repeat_n(&b'0', 2 - frac_part.len())) {
        if !d.is_ascii_digit() {
            return None;
        }
        cents = cents * 10 + i64::from(d - b'0');
    }
    Some(Decimal::new(if negative { -cents } else { cents }, 2))
}

/// Money from an XLSX number cell, as Excel shows it: to 15 significant
/// digits (so the float noise of a formula, 129.00000000000003, is 129.00),
/// and then exactly as [`parse_money`] takes text: more than two decimals
/// or an amount beyond Decimal(18,2) is refused, never rounded.
pub fn money_from_f64(value: f64) -> Result<Decimal, String> {
    exact_money(number_as_shown(value)?).map_err(|why| format!("「{value}」{why}"))
}

/// A spreadsheet number as Excel shows it: to 15 significant digits.
pub fn number_as_shown(value: f64) -> Result<Decimal, String> {
    if !value.is_finite() {
        return Err(format!("「{value}」不是有效金额"));
    }
    Decimal::from_scientific(&format!("{value:.14e}")).map_err(|_| format!("「{value}」超出了金额能保存的范围(最多 16 位整数,即 {MONEY_MAX} 元)"))
}

/// The largest value of the lake's exact decimal type, Decimal(18,4).
const DECIMAL_MAX: Decimal = Decimal::from_parts(0xA763_FFFF, 0x0DE0_B6B3, 0, false, 4);

/// Parses a decimal such as a share ratio (`35.5`, `35.5%`): at most four
/// decimals and within Decimal(18,4), never rounded.
pub fn parse_decimal(raw: &str) -> Result<Decimal, String> {
    let s = clean(raw);
    let body = s.strip_suffix('%').unwrap_or(&s).replace(',', "");
    let value = body.trim().parse::<Decimal>().map_err(|_| format!("{}不是有效数字", quoted(&s)))?.normalize();
    if value.scale() > 4 || value.abs() > DECIMAL_MAX {
        return Err(format!("{}超出了能精确保存的范围(最多四位小数、14 位整数)", quoted(&s)));
    }
    Ok(value)
}

/// Parses a whole number (thousands separators allowed; `12.0` from a
/// spreadsheet is 12).
pub fn parse_int(raw: &str) -> Result<i64, String> {
    let s = clean(raw).replace(',', "");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    s.parse::<i64>().map_err(|_| format!("{}不是整数", quoted(s)))
}

/// Parses yes/no: `是/否`, `Y/N`, `1/0`, `true/false` (any case).
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    let s = clean(raw);
    match s.to_ascii_lowercase().as_str() {
        "是" | "y" | "yes" | "1" | "true" => Ok(true),
        "否" | "n" | "no" | "0" | "false" => Ok(false),
        _ => Err(format!("{}不是是/否(应为 是/否、Y/N、1/0 或 true/false)", quoted(&s))),
    }
}

/// Whether `bytes` are all printable ASCII with no lower case: a code (or
/// the bytes of many) already in the lake's spelling.
pub fn is_canonical_code(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.is_ascii_graphic() && !b.is_ascii_lowercase())
}

/// Normalizes a code: NFKC, no white space, upper case.
pub fn normalize_code(raw: &str) -> Cow<'_, str> {
    if is_canonical_code(raw.as_bytes()) {
        return Cow::Borrowed(raw);
    }
    if raw.is_ascii() {
        return Cow::Owned(raw.chars().filter(|c| !c.is_ascii_whitespace()).map(|c| c.to_ascii_uppercase()).collect());
    }
    Cow::Owned(raw.nfkc().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase())
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The GB 11643 check character for the first 17 digits of `id`.
pub fn id_check_digit(id: &str) -> Option<char> {
    let bytes = id.as_bytes();
    if bytes.len() < 17 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes[..17].iter().zip(ID_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    Some(ID_CHECK[(sum % 11) as usize] as char)
}

/// The birth date coded in an 18-character ID number.
pub fn id_birth_date(id: &str) -> Option<NaiveDate> {
    let digits = id.get(6..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || &digits[0..4] == "0000" {
        return None;
    }
    ymd(&digits[0..4], &digits[4..6], &digits[6..8])
}

/// GB 11643 validity: 18 characters, 17 digits and a check character that
/// matches, with a real birth date.
pub fn id_valid(id: &str) -> bool {
    id.len() == 18 && id_check_digit(id).is_some_and(|c| id.as_bytes()[17] as char == c) && id_birth_date(id).is_some()
}

/// Upgrades a legacy 15-digit number (born 19xx) to 18 characters.
pub fn upgrade_legacy_id(id15: &str) -> Option<String> {
    if id15.len() != 15 || !id15.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let body = format!("{}19{}", &id15[..6], &id15[6..]);
    Some(format!("{body}{}", id_check_digit(&body)?))
}

/// Whether `bytes` have the shape of an ID number as the lake writes it:
/// 17 digits, then a digit or `X` (the check digit is not verified here).
pub fn is_canonical_id_shape(bytes: &[u8]) -> bool {
    bytes.len() == 18 && bytes[..17].iter().all(u8::is_ascii_digit) && (bytes[17].is_ascii_digit() || bytes[17] == b'X')
}

/// Parses an ID number as delivered: spaces removed, `x` upper-cased, the
/// 15-digit form upgraded. A wrong check digit is kept (a rule flags it); a
/// value that is not an ID number at all is an error.
pub fn parse_id(raw: &str) -> Result<Cow<'_, str>, String> {
    let s = normalize_code(raw);
    if is_canonical_id_shape(s.as_bytes()) {
        return Ok(s);
    }
    if let Some(upgraded) = upgrade_legacy_id(&s)
        && id_birth_date(&upgraded).is_some()
    {
        return Ok(Cow::Owned(upgraded));
    }
    Err(format!("{}不是身份号码(应为 18 位,或 15 位旧号)", quoted(raw.trim())))
}

/// The name normalization of CONTRACT §3: NFKC, no white space, and every
/// middle dot of a minority name (`·•・．‧.`) as one and the same dot.
pub fn normalize_name(name: &str) -> String {
    // Most names are plain Han characters, which NFKC leaves alone and
    // which hold no space or dot: already normal.
    if name.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)) {
        return name.to_string();
    }
    name.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{00B7}' | '\u{2022}' | '\u{30FB}' | '\u{FF65}' | '\u{FF0E}' | '\u{2027}' | '.' | '\u{2219}' | '\u{22C5}' => '·',
            other => other,
        })
        .collect()
}

/// The text with every run of six or more digits starred: what a log line
/// may carry of a text that could quote a value (an ID number, an account,
/// a phone); logs hold no personal data.
pub fn star_long_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = 0usize;
    let flush = |out: &mut String, start: usize, end: usize| {
        if end - start >= 6 {
            out.push_str(&"*".repeat(end - start));
        } else {
            out.push_str(&text[start..end]);
        }
    };
    let mut run_start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_digit() {
            if digits == 0 {
                run_start = i;
            }
            digits += 1;
            continue;
        }
        if digits > 0 {
            flush(&mut out, run_start, i);
            digits = 0;
        }
        out.push(c);
    }
    if digits > 0 {
        flush(&mut out, run_start, text.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_are_starred_short_ones_kept() {
        assert_eq!(star_long_numbers("身份证 430223199001011234 第 12 行,金额 123456.78"), "身份证 ****************** 第 12 行,金额 ******.78");
        assert_eq!(star_long_numbers("2026-12 v12345"), "2026-12 v12345");
        assert_eq!(star_long_numbers("6222021234567890"), "****************");
    }
    use std::path::PathBuf;

    fn conformance(file: &str) -> Vec<csv::StringRecord> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance").join(file);
        let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("conformance vectors at {}: {e}", path.display()));
        reader.records().map(|r| r.expect("conformance row")).collect()
    }

    #[test]
    fn trimming_looks_at_characters_only_where_the_ends_cannot_tell() {
        for (text, trimmed) in
            [("张三", "张三"), (" 张三\u{3000}", "张三"), ("\u{3000}张三", "张三"), ("é ", "é"), ("abc", "abc"), ("a\t", "a"), ("\u{a0}x\u{2003}", "x"), ("", ""), ("  ", ""), ("𠀀", "𠀀")]
        {
            assert_eq!(trim(text), trimmed, "{text:?}");
        }
        assert!(starts_unspaced("合计") && starts_unspaced("a") && !starts_unspaced(" a") && !starts_unspaced("é") && !starts_unspaced(""));
    }

    #[test]
    fn conformance_values() {
        let rows = conformance("values.csv");
        assert!(rows.len() > 40);
        for row in rows {
            let (kind, input, expected) = (&row[0], &row[1], &row[2]);
            let got = match kind {
                "date" => parse_date(input).map(|d| d.format("%Y-%m-%d").to_string()),
                "month" => parse_month(input).map(|m| m.to_string()),
                "money" => parse_money(input).map(|m| m.to_string()),
                "bool" => parse_bool(input).map(|b| b.to_string()),
                "id" => parse_id(input).map(Cow::into_owned),
                other => panic!("unknown kind {other}"),
            };
            match (expected, got) {
                ("ERROR", Err(_)) => {}
                ("ERROR", Ok(v)) => panic!("{kind} {input:?} should be an error, got {v}"),
                (want, Ok(v)) => assert_eq!(v, want, "{kind} {input:?}"),
                (want, Err(e)) => panic!("{kind} {input:?} should be {want}, got error {e}"),
            }
        }
    }

    #[test]
    fn conformance_names() {
        for row in conformance("names.csv") {
            let same = normalize_name(&row[0]) == normalize_name(&row[1]);
            assert_eq!(same, &row[2] == "same", "{:?} vs {:?}", &row[0], &row[1]);
        }
    }

    #[test]
    fn excel_serials() {
        assert_eq!(parse_date("45356").unwrap(), NaiveDate::from_ymd_opt(2024, 3, 5).unwrap());
        // Years and months are not serials (issue 32): 2019.03 was 1905-07-11.
        for month in ["2019.03", "2021.10", "2019.3", "201903", "2027.03"] {
            assert!(parse_date(month).unwrap_err().contains("是年月,不是具体日期"), "{month}");
        }
        for year in ["2019", "1990"] {
            assert!(parse_date(year).unwrap_err().contains("是年份"), "{year}");
        }
        for implausible in ["1234", "5000.5", "99999", "0.5"] {
            assert!(parse_date(implausible).unwrap_err().contains("不合理"), "{implausible}");
        }
        assert_eq!(parse_date("10000").unwrap(), NaiveDate::from_ymd_opt(1927, 5, 18).unwrap());
        assert_eq!(parse_date("73415").unwrap(), NaiveDate::from_ymd_opt(2100, 12, 31).unwrap());
        assert_eq!(parse_month("2019.03").unwrap().to_string(), "2019-03");
        assert_eq!(parse_month("2019.3").unwrap().to_string(), "2019-03");
        assert!(parse_month("2019.1").unwrap_err().contains("1 月还是 10 月"));
        assert_eq!(parse_month("2019.10").unwrap().to_string(), "2019-10");
        assert_eq!(parse_date("45356.0").unwrap(), NaiveDate::from_ymd_opt(2024, 3, 5).unwrap());
        assert_eq!(excel_serial_date(1.0), NaiveDate::from_ymd_opt(1900, 1, 1));
        assert_eq!(excel_serial_date(61.0), NaiveDate::from_ymd_opt(1900, 3, 1));
    }

    #[test]
    fn more_spellings() {
        assert_eq!(parse_date("2024-03-05 00:00:00").unwrap().to_string(), "2024-03-05");
        assert!(parse_date("2024年3月").is_err());
        assert!(parse_date("").is_err());
        assert_eq!(parse_month("2024-03-01").unwrap().to_string(), "2024-03");
        assert_eq!(parse_money("¥1,234.5").unwrap().to_string(), "1234.50");
        assert!(parse_money("12,34").is_err());
        assert!(parse_money("1.234").is_err());
        assert_eq!(parse_money("1.230").unwrap().to_string(), "1.23");
        assert_eq!(money_from_f64(129.00000000000003).unwrap().to_string(), "129.00");
        assert_eq!(parse_int("1,234").unwrap(), 1234);
        assert!(parse_id("43022319500307123").is_err());
    }

    #[test]
    fn plain_spellings_read_fast_agree_with_the_general_parsers() {
        for (input, cents) in [("1350", 135000), ("1350.5", 135050), ("2254.86", 225486), ("-12.30", -1230), ("0", 0), ("007.5", 750)] {
            assert_eq!(plain_money(input), Some(Decimal::new(cents, 2)), "{input}");
            assert_eq!(parse_money(input).unwrap().to_string(), Decimal::new(cents, 2).to_string(), "{input}");
        }
        for other in ["1.", ".5", "1.234", "-", "", "1,350", "12a", " 12", "１２", "1350元", "+5", "1234567890123456"] {
            assert_eq!(plain_money(other), None, "{other:?} is left to the general parser");
        }
        assert_eq!(parse_money("1.").unwrap_err(), "「1.」不是有效金额(应为数字,如 1,350.00 或 430元)");
        assert_eq!(canonical_date("2024-03-05"), NaiveDate::from_ymd_opt(2024, 3, 5));
        for other in ["2024-02-30", "2024-3-05", "2024/03/05", "2024-03-05 ", "２０24-03-05"] {
            assert_eq!(canonical_date(other), None, "{other:?}");
        }
        assert!(parse_date("2024-02-30").is_err());
        assert_eq!(parse_date("2024-02-29").unwrap(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    }

    #[test]
    fn months() {
        let m = Month::new(2024, 12).unwrap();
        assert_eq!(m.next().to_string(), "2025-01");
        assert_eq!(m.plus(-12).to_string(), "2023-12");
        assert_eq!(Month::new(2024, 2).unwrap().last_day().to_string(), "2024-02-29");
        assert_eq!(m.months_until(Month::new(2025, 3).unwrap()), 3);
    }

    #[test]
    fn id_checks() {
        assert!(id_valid("43022319640101102X"));
        assert!(!id_valid("430223195003071230"));
        assert_eq!(upgrade_legacy_id("430223480615071").unwrap(), "430223194806150715");
    }
}
