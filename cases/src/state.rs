//! A case's states and the changes that move it (CONTRACT §5):
//!
//! ```text
//!  (a run finds the subject)
//!          │
//!        待交办 ──交办──▶ 已交办 ──核查──▶ 属实 / 部分属实 ──整改──▶ 整改中 ──整改完成──▶ 已整改 ──销号──▶ 已销号
//!                          │                                         ▲   ▲                        │
//!                          └──核查:不属实──▶ 排除                      │   └──────整改不实(数据)─────┘
//!                                  │ (a new finding: 重新发现 → 待交办)  └────────反弹(数据)──────── 已销号
//! ```
//! 线索移交 and money (追缴, 补发, 处理人数) are recorded on a verified case
//! without moving it; 数据核验通过 is a flag the data sets.

use crate::CaseError;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Pending,
    Assigned,
    Confirmed,
    PartlyConfirmed,
    Dismissed,
    Rectifying,
    Rectified,
    Closed,
    /// 已撤销: a 待交办 case a later run no longer finds (withdrawn by the
    /// data; found again, it is 待交办 once more).
    Withdrawn,
}

impl State {
    pub const ALL: [State; 9] =
        [State::Pending, State::Assigned, State::Confirmed, State::PartlyConfirmed, State::Dismissed, State::Rectifying, State::Rectified, State::Closed, State::Withdrawn];

    pub fn label(self) -> &'static str {
        match self {
            State::Pending => "待交办",
            State::Assigned => "已交办",
            State::Confirmed => "属实",
            State::PartlyConfirmed => "部分属实",
            State::Dismissed => "排除",
            State::Rectifying => "整改中",
            State::Rectified => "已整改",
            State::Closed => "已销号",
            State::Withdrawn => "已撤销",
        }
    }

    /// The state named `label` (Chinese, as stored).
    pub fn parse(label: &str) -> Result<State, CaseError> {
        State::ALL.into_iter().find(|s| s.label() == label.trim()).ok_or_else(|| {
            CaseError::Invalid(format!("没有状态「{label}」,应为 {}", State::ALL.map(State::label).join("、")))
        })
    }

    /// A unit's verdict holds (属实 or 部分属实) and the case has not been dismissed.
    fn verified(self) -> bool {
        matches!(self, State::Confirmed | State::PartlyConfirmed | State::Rectifying | State::Rectified | State::Closed)
    }
}

/// A unit's verdict on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    True,
    PartlyTrue,
    False,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::True, Verdict::PartlyTrue, Verdict::False];

    pub fn label(self) -> &'static str {
        match self {
            Verdict::True => "属实",
            Verdict::PartlyTrue => "部分属实",
            Verdict::False => "不属实",
        }
    }

    pub fn parse(label: &str) -> Result<Verdict, CaseError> {
        Verdict::ALL.into_iter().find(|v| v.label() == label.trim()).ok_or_else(|| CaseError::Invalid(format!("核查结论「{label}」应为 属实、部分属实 或 不属实")))
    }
}

/// The most one event may record as 追缴 or 补发, in cents (1 亿元): a larger
/// figure is a slip of the keyboard, and sums over a case's events stay
/// far within the lake's Decimal(18,2).
pub(crate) const MAX_MONEY_CENTS: i128 = 100_000_000 * 100;

/// The most people one event may record as 处理人数.
pub(crate) const MAX_PEOPLE: i64 = 10_000;

/// The longest text (characters) a person may write into one field of a
/// case: a reason, measures, a note.
pub(crate) const MAX_TEXT_CHARS: usize = 2_000;

/// Whether a text says something: it has a character that is not
/// whitespace, a control or a format character (zero-width spaces, joiners,
/// byte-order marks, bidirectional marks).
pub(crate) fn has_visible_text(text: &str) -> bool {
    text.chars().any(|c| !c.is_whitespace() && !c.is_control() && !is_format_char(c))
}

/// Unicode's format characters (category Cf) that people paste: zero-width
/// spaces and joiners, word joiner, BOM, directional marks and overrides.
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{3164}' | '\u{115F}' | '\u{1160}')
}

/// Outcomes of a clue handed to the discipline commission, in order.
pub const TRANSFER_OUTCOMES: [&str; 5] = ["已移交", "初核", "立案", "党纪政务处分", "了结"];

/// What a person does to a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// 交办: hand it to a unit (town, village or department code) to verify by `due`.
    Assign { unit: String, due: chrono::NaiveDate },
    /// 核查: the unit's verdict; 不属实 needs its reason in `note`.
    Verdict { verdict: Verdict, note: String },
    /// 整改: the measures, to be done by `due`.
    Rectify { measures: String, due: chrono::NaiveDate },
    /// 整改完成: the unit reports it done.
    Rectified { note: String },
    /// 销号: an analyst closes it.
    Close { note: String },
    /// 线索移交 to the discipline commission, or its next outcome.
    Transfer { outcome: String, note: String },
    /// Money and people: 追缴 (recovered), 补发 (back-paid), 处理人数.
    Money { recovered: Option<i128>, back_paid: Option<i128>, people: Option<i64> },
}

impl Change {
    /// The action's name as the event stores it.
    pub fn action(&self) -> &'static str {
        match self {
            Change::Assign { .. } => "交办",
            Change::Verdict { .. } => "核查",
            Change::Rectify { .. } => "整改",
            Change::Rectified { .. } => "整改完成",
            Change::Close { .. } => "销号",
            Change::Transfer { .. } => "线索移交",
            Change::Money { .. } => "资金与处理",
        }
    }

    /// Whether a unit (整改责任单位) may make this change: it answers —
    /// verdict, measures, done, money — and nothing else (交办, 销号 and
    /// 线索移交 are the office's). The form and the 交办单 import both end here.
    pub fn unit_may(&self) -> bool {
        matches!(self, Change::Verdict { .. } | Change::Rectify { .. } | Change::Rectified { .. } | Change::Money { .. })
    }

    /// The texts a person wrote into the change.
    fn texts(&self) -> Vec<&str> {
        match self {
            Change::Assign { unit, .. } => vec![unit],
            Change::Verdict { note, .. } | Change::Rectified { note } | Change::Close { note } => vec![note],
            Change::Rectify { measures, .. } => vec![measures],
            Change::Transfer { outcome, note } => vec![outcome, note],
            Change::Money { .. } => vec![],
        }
    }

    /// The state the change leaves a case in that is now `from`, or why
    /// it cannot be made.
    pub fn next(&self, from: State) -> Result<State, String> {
        if let Some(long) = self.texts().into_iter().find(|t| t.chars().count() > MAX_TEXT_CHARS) {
            return Err(format!("「{}」的文字有 {} 个字,超过上限 {MAX_TEXT_CHARS} 字;请精简后重新提交", self.action(), long.chars().count()));
        }
        let refuse = |needs: &str| Err(format!("「{}」需要案件处于{needs},当前为「{}」", self.action(), from.label()));
        match self {
            Change::Assign { .. } => match from {
                State::Pending | State::Assigned => Ok(State::Assigned),
                _ => refuse("待交办或已交办"),
            },
            Change::Verdict { verdict, note } => match (from, verdict) {
                (State::Assigned, Verdict::False) if !has_visible_text(note) => Err("核查结论为不属实时必须写明理由".into()),
                (State::Assigned, Verdict::False) => Ok(State::Dismissed),
                (State::Assigned, Verdict::True) => Ok(State::Confirmed),
                (State::Assigned, Verdict::PartlyTrue) => Ok(State::PartlyConfirmed),
                _ => refuse("已交办"),
            },
            Change::Rectify { measures, .. } => match from {
                _ if !has_visible_text(measures) => Err("整改须写明整改措施".into()),
                State::Confirmed | State::PartlyConfirmed | State::Rectifying => Ok(State::Rectifying),
                _ => refuse("属实、部分属实或整改中"),
            },
            Change::Rectified { .. } => match from {
                State::Rectifying => Ok(State::Rectified),
                _ => refuse("整改中"),
            },
            Change::Close { .. } => match from {
                State::Rectified => Ok(State::Closed),
                _ => refuse("已整改"),
            },
            Change::Transfer { outcome, .. } => match from {
                _ if !TRANSFER_OUTCOMES.contains(&outcome.as_str()) => Err(format!("移交结果「{outcome}」应为 {}", TRANSFER_OUTCOMES.join("、"))),
                s if s.verified() => Ok(s),
                _ => refuse("核查属实之后"),
            },
            Change::Money { recovered, back_paid, people } => match from {
                _ if recovered.is_none() && back_paid.is_none() && people.is_none() => Err("请至少给出追缴金额、补发金额或处理人数之一".into()),
                _ if recovered.is_some_and(|v| v < 0) || back_paid.is_some_and(|v| v < 0) || people.is_some_and(|v| v < 0) => Err("金额与人数不能为负".into()),
                _ if recovered.is_some_and(|v| v > MAX_MONEY_CENTS) || back_paid.is_some_and(|v| v > MAX_MONEY_CENTS) => {
                    Err(format!("追缴或补发金额超过单笔上限 {} 元,请核对(金额以元为单位)", MAX_MONEY_CENTS / 100))
                }
                _ if people.is_some_and(|v| v > MAX_PEOPLE) => Err(format!("处理人数超过上限 {MAX_PEOPLE} 人,请核对")),
                s if s.verified() => Ok(s),
                _ => refuse("核查属实之后"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
    }

    #[test]
    fn the_lifecycle_moves_and_everything_else_is_refused() {
        let assign = Change::Assign { unit: "430223101000".into(), due: day() };
        let verdict = |v| Change::Verdict { verdict: v, note: "核实".into() };
        let rectify = Change::Rectify { measures: "停发并追缴".into(), due: day() };
        let done = Change::Rectified { note: String::new() };
        let close = Change::Close { note: String::new() };
        let path = [(&assign, State::Assigned), (&verdict(Verdict::True), State::Confirmed), (&rectify, State::Rectifying), (&done, State::Rectified), (&close, State::Closed)];
        let mut state = State::Pending;
        for (change, expected) in path {
            state = change.next(state).unwrap();
            assert_eq!(state, expected);
        }
        // Every change from every state: exactly the allowed ones pass.
        let allowed = |c: &Change, s: State| c.next(s).is_ok();
        assert!(!allowed(&close, State::Assigned) && !allowed(&close, State::Confirmed), "销号 before a verdict and rectification");
        assert!(!allowed(&verdict(Verdict::True), State::Pending), "a verdict before 交办");
        assert!(!allowed(&verdict(Verdict::True), State::Confirmed), "a second verdict");
        assert!(!allowed(&rectify, State::Dismissed) && !allowed(&assign, State::Closed) && !allowed(&done, State::Confirmed));
        assert!(Change::Verdict { verdict: Verdict::False, note: " ".into() }.next(State::Assigned).unwrap_err().contains("理由"));
        // A reason of invisible characters only is no reason.
        for hidden in ["\u{200B}\u{200B}\u{200B}", "\u{FEFF}", "\u{200D}\u{2060}\u{3000}", "\u{202E}\t\u{00AD}", "\u{3164}"] {
            assert!(Change::Verdict { verdict: Verdict::False, note: hidden.into() }.next(State::Assigned).is_err(), "{hidden:?}");
            assert!(Change::Rectify { measures: hidden.into(), due: day() }.next(State::Confirmed).is_err(), "{hidden:?}");
        }
        assert!(Change::Verdict { verdict: Verdict::False, note: "x".repeat(MAX_TEXT_CHARS + 1) }.next(State::Assigned).unwrap_err().contains("上限"));
        // Money and people beyond the ceilings.
        let too_much = |recovered, people| Change::Money { recovered, back_paid: None, people }.next(State::Confirmed);
        assert!(too_much(Some(999_999_999_999_999_999), None).unwrap_err().contains("上限"));
        assert!(too_much(None, Some(i64::MAX)).unwrap_err().contains("上限"));
        assert!(too_much(Some(MAX_MONEY_CENTS), Some(MAX_PEOPLE)).is_ok());
        assert!(!Change::Transfer { outcome: "已移交".into(), note: String::new() }.unit_may() && !Change::Close { note: String::new() }.unit_may() && Change::Rectified { note: String::new() }.unit_may());
        assert_eq!(Change::Verdict { verdict: Verdict::False, note: "查无此事".into() }.next(State::Assigned), Ok(State::Dismissed));
        let transfer = Change::Transfer { outcome: "立案".into(), note: String::new() };
        assert_eq!(transfer.next(State::Rectifying), Ok(State::Rectifying));
        assert!(transfer.next(State::Assigned).is_err() && Change::Transfer { outcome: "判刑".into(), note: String::new() }.next(State::Confirmed).is_err());
        let money = Change::Money { recovered: Some(120_000), back_paid: None, people: Some(1) };
        assert_eq!(money.next(State::Closed), Ok(State::Closed));
        assert!(money.next(State::Pending).is_err() && Change::Money { recovered: None, back_paid: None, people: None }.next(State::Confirmed).is_err());
        for s in State::ALL {
            assert_eq!(State::parse(s.label()).unwrap(), s);
        }
        assert!(State::parse("结案").unwrap_err().to_string().contains("待交办"));
    }
}
