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
}

impl State {
    pub const ALL: [State; 8] = [State::Pending, State::Assigned, State::Confirmed, State::PartlyConfirmed, State::Dismissed, State::Rectifying, State::Rectified, State::Closed];

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

    /// The state the change leaves a case in that is now `from`, or why
    /// it cannot be made.
    pub fn next(&self, from: State) -> Result<State, String> {
        let refuse = |needs: &str| Err(format!("「{}」需要案件处于{needs},当前为「{}」", self.action(), from.label()));
        match self {
            Change::Assign { .. } => match from {
                State::Pending | State::Assigned => Ok(State::Assigned),
                _ => refuse("待交办或已交办"),
            },
            Change::Verdict { verdict, note } => match (from, verdict) {
                (State::Assigned, Verdict::False) if note.trim().is_empty() => Err("核查结论为不属实时必须写明理由".into()),
                (State::Assigned, Verdict::False) => Ok(State::Dismissed),
                (State::Assigned, Verdict::True) => Ok(State::Confirmed),
                (State::Assigned, Verdict::PartlyTrue) => Ok(State::PartlyConfirmed),
                _ => refuse("已交办"),
            },
            Change::Rectify { measures, .. } => match from {
                _ if measures.trim().is_empty() => Err("整改须写明整改措施".into()),
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
