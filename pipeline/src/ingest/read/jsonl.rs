//! JSON Lines: one object a line, UTF-8 only, each value as its JSON text
//! (a number keeps its digits); a key twice in one object rejects the file.

use super::records;
use super::{RawCell, RawRow, RowIter, without_bom};
use crate::PipelineError;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use xuncha_core::values;

/// A JSON Lines file's lines, as bytes without their line end.
struct Lines {
    input: BufReader<File>,
    number: u64,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines, PipelineError> {
        Ok(Lines { input: BufReader::with_capacity(1 << 16, File::open(path)?), number: 0 })
    }

    /// The next line (its number, its text), `None` at the end.
    fn next_line(&mut self) -> Option<Result<(u64, String), PipelineError>> {
        use std::io::BufRead;
        let mut bytes = Vec::new();
        match (&mut self.input).take(records::MAX_RECORD_BYTES as u64 + 1).read_until(b'\n', &mut bytes) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(e.into())),
        }
        self.number += 1;
        let number = self.number;
        if bytes.len() > records::MAX_RECORD_BYTES {
            return Some(Err(PipelineError::Unreadable(format!("第 {number} 行超过 {} MB 仍未结束,不像是 JSON Lines(每行一个 JSON 对象);整份文件未入库", records::MAX_RECORD_BYTES >> 20))));
        }
        if bytes.ends_with(b"\n") {
            bytes.pop();
        }
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
        let text = if number == 1 { without_bom(&bytes) } else { &bytes };
        Some(match std::str::from_utf8(text) {
            Ok(text) => Ok((number, text.to_string())),
            Err(_) if number == 1 && (bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF")) => {
                Err(PipelineError::Unreadable("JSON Lines 文件是 UTF-16 编码;JSON Lines 必须是 UTF-8,请另存为 UTF-8 后重新报送".into()))
            }
            Err(_) => Err(PipelineError::Unreadable(format!(
                "第 {number} 行不是有效的 UTF-8 文本(JSON Lines 文件必须是 UTF-8 编码,这一行混入了其他编码的字节或乱码);整份文件未入库,请重新导出为 UTF-8 后再报送"
            ))),
        })
    }
}

/// A JSON object's members in their order, each value as its JSON text.
struct Members(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members: Vec<(String, Box<serde_json::value::RawValue>)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Box<serde_json::value::RawValue>>()? {
                    if members.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("键「{}」出现了两次", values::excerpt(&key, 40))));
                    }
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Line `number` as a JSON object's members.
fn json_object(number: u64, line: &str) -> Result<Members, PipelineError> {
    serde_json::from_str::<Members>(line).map_err(|e| {
        let what = if line.trim_start().starts_with('{') { format!("不是有效的 JSON 对象({})", values::excerpt(&e.to_string(), 120)) } else { "不是 JSON 对象".to_string() };
        PipelineError::Unreadable(format!("第 {number} 行{what};整份文件未入库,请修正这一行后重新报送(这一行开头: {})", values::excerpt(line, 60)))
    })
}

/// Opens a JSON Lines file. Each object's keys become columns: the header
/// returned names every key seen in the first 1,000 lines, and each line's
/// cells follow that order (a key first seen later still lands, in `extra`).
/// Values are kept as their JSON text: a number is read as the digits the
/// file holds (an 18-digit ID number written as a number keeps every
/// digit; an amount keeps its decimals), never through a float.
pub fn jsonl_rows(path: &Path) -> Result<(Vec<String>, RowIter), PipelineError> {
    let mut keys: Vec<String> = Vec::new();
    let mut head = Lines::open(path)?;
    while head.number < 1000
        && let Some(line) = head.next_line()
    {
        let (number, line) = line?;
        if let Ok(Members(members)) = json_object(number, &line) {
            for (k, _) in members {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    let mut lines = Lines::open(path)?;
    let header = keys.clone();
    let iter = std::iter::from_fn(move || lines.next_line()).map(move |line| {
        let (number, line) = line?;
        if line.trim().is_empty() {
            return Ok(RawRow::new(number, Vec::new()));
        }
        let Members(mut members) = json_object(number, &line)?;
        let mut cells: Vec<RawCell> = keys
            .iter()
            .map(|k| match members.iter().position(|(key, _)| key == k) {
                Some(at) => json_cell(&members.remove(at).1),
                None => Ok(RawCell::Empty),
            })
            .collect::<Result<_, _>>()?;
        // Keys not seen in the head of the file: appended as `key=value` text
        // so they reach `extra` rather than vanish.
        for (k, v) in members {
            cells.push(RawCell::Text(format!("{k}={}", json_cell(&v)?.as_cell().text())));
        }
        Ok(RawRow::new(number, cells))
    });
    Ok((header, Box::new(iter)))
}

/// A JSON value as a cell: a string as its text, a number as its digits,
/// an object or array as its JSON text.
fn json_cell(value: &serde_json::value::RawValue) -> Result<RawCell, PipelineError> {
    let text = value.get();
    Ok(match text.as_bytes().first() {
        Some(b'"') => match serde_json::from_str::<String>(text) {
            Ok(s) if s.is_empty() => RawCell::Empty,
            Ok(s) => RawCell::Text(s),
            Err(e) => return Err(PipelineError::Unreadable(format!("JSON 字符串无法读取: {e}"))),
        },
        Some(b'n') => RawCell::Empty,
        Some(b't') => RawCell::Bool(true),
        Some(b'f') => RawCell::Bool(false),
        _ => RawCell::Text(text.to_string()),
    })
}
