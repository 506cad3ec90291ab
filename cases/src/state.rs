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
//! without moving it; so are a leader's 批示 (an instruction, on any live
//! case) and 督办 (pressing the unit, on a case it is working on);
//! 数据核验通过 is a flag the data sets.

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
    pub const ALL: [State; 9] = [State::Pending, State::Assigned, State::Confirmed, State::PartlyConfirmed, State::Dismissed, State::Rectifying, State::Rectified, State::Closed, State::Withdrawn];

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
        State::ALL.into_iter().find(|s| s.label() == label.trim()).ok_or_else(|| CaseError::Invalid(format!("没有状态「{label}」,应为 {}", State::ALL.map(State::label).join("、"))))
    }

    /// A unit's verdict holds (属实 or 部分属实) and the case has not been dismissed.
    pub fn verified(self) -> bool {
        matches!(self, State::Confirmed | State::PartlyConfirmed | State::Rectifying | State::Rectified | State::Closed)
    }

    /// What `party` may do to a case in this state, in the order a page offers it.
    pub fn actions(self, party: Party) -> Vec<Action> {
        Action::ALL.into_iter().filter(|a| a.allowed_for(party) && a.open_in(self)).collect()
    }
}

/// Who acts on a case: the unit it was handed to (answers), the office
/// (巡察办: hands over, closes, transfers, presses) or a reader (leaders:
/// they read, instruct and press).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Unit,
    Office,
    Reader,
}

/// Something a person does to a case: one form of the case page, one kind
/// of [`Change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Assign,
    Verdict,
    Rectify,
    Done,
    Close,
    Money,
    Transfer,
    /// 批示: a leader's instruction on a case.
    Instruct,
    /// 督办: pressing the unit on a case it is working on.
    Supervise,
}

impl Action {
    pub const ALL: [Action; 9] = [Action::Assign, Action::Verdict, Action::Rectify, Action::Done, Action::Close, Action::Money, Action::Transfer, Action::Instruct, Action::Supervise];

    /// Its name in a form (`action=verdict`) and in the audit (`case_verdict`).
    pub fn key(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Verdict => "verdict",
            Action::Rectify => "rectify",
            Action::Done => "done",
            Action::Close => "close",
            Action::Money => "money",
            Action::Transfer => "transfer",
            Action::Instruct => "instruct",
            Action::Supervise => "supervise",
        }
    }

    /// The action named `key`, or why there is none.
    pub fn parse(key: &str) -> Result<Action, CaseError> {
        Action::ALL.into_iter().find(|a| a.key() == key).ok_or_else(|| CaseError::Invalid(format!("未知操作「{key}」")))
    }

    /// What a button says.
    pub fn title(self) -> &'static str {
        match self {
            Action::Assign => "交办",
            Action::Verdict => "提交核查结论",
            Action::Rectify => "登记整改措施",
            Action::Done => "报告整改完成",
            Action::Close => "销号",
            Action::Money => "登记追缴、补发与处理",
            Action::Transfer => "线索移交与结果",
            Action::Instruct => "批示",
            Action::Supervise => "督办",
        }
    }

    /// Whether `party` may ever take it: a unit answers (verdict, measures,
    /// done, money); 交办, 销号 and 线索移交 are the office's; 批示 is a
    /// leader's, 督办 a leader's or the office's.
    pub fn allowed_for(self, party: Party) -> bool {
        match party {
            Party::Unit => matches!(self, Action::Verdict | Action::Rectify | Action::Done | Action::Money),
            Party::Office => self != Action::Instruct,
            Party::Reader => matches!(self, Action::Instruct | Action::Supervise),
        }
    }

    /// Whether a case in `state` takes it.
    fn open_in(self, state: State) -> bool {
        match self {
            Action::Assign => matches!(state, State::Pending | State::Assigned),
            Action::Verdict => state == State::Assigned,
            Action::Rectify => matches!(state, State::Confirmed | State::PartlyConfirmed | State::Rectifying),
            Action::Done => state == State::Rectifying,
            Action::Close => state == State::Rectified,
            Action::Money | Action::Transfer => state.verified(),
            Action::Instruct => !matches!(state, State::Withdrawn | State::Dismissed),
            Action::Supervise => matches!(state, State::Assigned | State::Rectifying),
        }
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
    /// 批示: a leader's instruction, in `note`.
    Instruct { note: String },
    /// 督办: what the unit is pressed to do, in `note`.
    Supervise { note: String },
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
            Change::Instruct { .. } => "批示",
            Change::Supervise { .. } => "督办",
        }
    }

    /// The action it is the result of.
    pub fn kind(&self) -> Action {
        match self {
            Change::Assign { .. } => Action::Assign,
            Change::Verdict { .. } => Action::Verdict,
            Change::Rectify { .. } => Action::Rectify,
            Change::Rectified { .. } => Action::Done,
            Change::Close { .. } => Action::Close,
            Change::Transfer { .. } => Action::Transfer,
            Change::Money { .. } => Action::Money,
            Change::Instruct { .. } => Action::Instruct,
            Change::Supervise { .. } => Action::Supervise,
        }
    }

    /// Whether a unit (整改责任单位) may make this change ([`Action::allowed_for`]).
    /// The form and the 交办单 import both end here.
    pub fn unit_may(&self) -> bool {
        self.kind().allowed_for(Party::Unit)
    }

    /// The texts a person wrote into the change.
    fn texts(&self) -> Vec<&str> {
        match self {
            Change::Assign { unit, .. } => vec![unit],
            Change::Verdict { note, .. } | Change::Rectified { note } | Change::Close { note } | Change::Instruct { note } | Change::Supervise { note } => vec![note],
            Change::Rectify { measures, .. } => vec![measures],
            Change::Transfer { outcome, note } => vec![outcome, note],
            Change::Money { .. } => vec![],
        }
    }

    /// Why the change is written wrong whatever the case's state (a 批示 or
    /// 督办 without words), if it is.
    pub fn written_wrong(&self) -> Option<String> {
        match self {
            Change::Instruct { note } | Change::Supervise { note } if !has_visible_text(note) => Some(format!("请写明{}内容", self.action())),
            _ => None,
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
            Change::Instruct { .. } | Change::Supervise { .. } => match (self.written_wrong(), from) {
                (Some(why), _) => Err(why),
                (None, s) if self.kind().open_in(s) => Ok(s),
                (None, _) if self.kind() == Action::Instruct => refuse("待交办至已销号之间(未排除、未撤销)"),
                (None, _) => refuse("已交办或整改中"),
            },
        }
    }
}

/// A unit's answer to a case handed to it — from the case page's form or
/// a row of the filled 交办单 — turned into its changes by one rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub verdict: Option<Verdict>,
    /// The verification's note (不属实: the reason).
    pub note: String,
    /// 整改措施, with their time limit.
    pub measures: String,
    pub due: Option<chrono::NaiveDate>,
    pub recovered: Option<i128>,
    pub back_paid: Option<i128>,
    pub people: Option<i64>,
    /// The clue is handed to the discipline commission (线索移交).
    pub transfer: bool,
}

impl Answer {
    /// The changes, in order: the verdict, then measures, money and the
    /// transfer. An answer of 不属实 that also gives measures, money or a
    /// transfer contradicts itself and is refused, never half-applied.
    pub fn changes(&self) -> Result<Vec<Change>, String> {
        let verdict = self.verdict.ok_or("请选择核查结论:属实、部分属实 或 不属实")?;
        let money = self.recovered.is_some() || self.back_paid.is_some() || self.people.is_some();
        if verdict == Verdict::False && (has_visible_text(&self.measures) || money || self.transfer) {
            return Err("核查结论为不属实,却填写了整改措施、追缴补发金额、处理人数或线索移交:请删去这些内容,或把结论改为属实/部分属实".into());
        }
        let mut changes = vec![Change::Verdict { verdict, note: self.note.clone() }];
        if !self.measures.trim().is_empty() {
            let due = self.due.ok_or("填写了整改措施,请同时填写整改时限")?;
            changes.push(Change::Rectify { measures: self.measures.clone(), due });
        }
        if money {
            changes.push(Change::Money { recovered: self.recovered, back_paid: self.back_paid, people: self.people });
        }
        if self.transfer {
            changes.push(Change::Transfer { outcome: TRANSFER_OUTCOMES[0].into(), note: String::new() });
        }
        Ok(changes)
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
        assert!(
            !Change::Transfer { outcome: "已移交".into(), note: String::new() }.unit_may() && !Change::Close { note: String::new() }.unit_may() && Change::Rectified { note: String::new() }.unit_may()
        );
        assert_eq!(Change::Verdict { verdict: Verdict::False, note: "查无此事".into() }.next(State::Assigned), Ok(State::Dismissed));
        let transfer = Change::Transfer { outcome: "立案".into(), note: String::new() };
        assert_eq!(transfer.next(State::Rectifying), Ok(State::Rectifying));
        assert!(transfer.next(State::Assigned).is_err() && Change::Transfer { outcome: "判刑".into(), note: String::new() }.next(State::Confirmed).is_err());
        let money = Change::Money { recovered: Some(120_000), back_paid: None, people: Some(1) };
        assert_eq!(money.next(State::Closed), Ok(State::Closed));
        assert!(money.next(State::Pending).is_err() && Change::Money { recovered: None, back_paid: None, people: None }.next(State::Confirmed).is_err());
        for s in State::ALL {
            assert_eq!(State::parse(s.label()).unwrap(), s);
            // What a page offers is what the state machine takes.
            for action in s.actions(Party::Office) {
                assert!(action.open_in(s) && Action::parse(action.key()).unwrap() == action);
            }
            assert!(s.actions(Party::Reader).iter().all(|a| matches!(a, Action::Instruct | Action::Supervise)), "leaders instruct and press, nothing else");
            assert!(!s.actions(Party::Office).contains(&Action::Instruct), "批示 is a leader's");
            assert!(s.actions(Party::Unit).iter().all(|a| !matches!(a, Action::Assign | Action::Close | Action::Transfer)));
        }
        assert_eq!(State::Assigned.actions(Party::Unit), [Action::Verdict]);
        assert_eq!(State::Confirmed.actions(Party::Office), [Action::Rectify, Action::Money, Action::Transfer]);
        assert_eq!(State::Assigned.actions(Party::Reader), [Action::Instruct, Action::Supervise]);
        assert_eq!(State::Dismissed.actions(Party::Reader), []);
        let instruct = Change::Instruct { note: "请于月底前核清".into() };
        assert_eq!(instruct.next(State::Rectified), Ok(State::Rectified), "a 批示 moves nothing");
        assert!(Change::Instruct { note: " ".into() }.next(State::Assigned).is_err() && Change::Supervise { note: "加快".into() }.next(State::Closed).is_err());
        assert!(State::parse("结案").unwrap_err().to_string().contains("待交办"));
    }

    #[test]
    fn an_answer_is_one_set_of_changes_from_the_form_or_the_sheet() {
        let answer = Answer { verdict: Some(Verdict::True), note: "核实".into(), measures: "停发".into(), due: Some(day()), recovered: Some(8_000), transfer: true, ..Answer::default() };
        let kinds: Vec<Action> = answer.changes().unwrap().iter().map(Change::kind).collect();
        assert_eq!(kinds, [Action::Verdict, Action::Rectify, Action::Money, Action::Transfer]);
        assert!(Answer { due: None, ..answer.clone() }.changes().unwrap_err().contains("整改时限"));
        assert!(Answer { verdict: None, ..answer.clone() }.changes().unwrap_err().contains("核查结论"));
        let denied = Answer { verdict: Some(Verdict::False), note: "查无此事".into(), ..Answer::default() };
        assert_eq!(denied.changes().unwrap(), [Change::Verdict { verdict: Verdict::False, note: "查无此事".into() }]);
        for contradicting in [Answer { measures: "停发".into(), ..denied.clone() }, Answer { people: Some(1), ..denied.clone() }, Answer { transfer: true, ..denied.clone() }] {
            assert!(contradicting.changes().unwrap_err().contains("不属实"), "{contradicting:?}");
        }
    }
}
