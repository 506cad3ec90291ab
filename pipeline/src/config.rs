//! `xuncha.toml`: the one configuration file. Strict: an unknown key is an
//! error that names it. Every setting has a default, so the file is optional.
//!
//! ```toml
//! lake = "./lake"
//! [rules]
//! dir = "my-rules"            # more rule files beside the built-in ones
//! [thresholds]
//! split_limit = 100000        # 拆分工程: the tendering limit (yuan)
//! split_window_days = 90
//! travel_min = 2000           # 公款旅游: minimum amount (yuan)
//! travel_keywords = ["旅游", "景区", "门票", "度假", "参观学习", "考察学习"]
//! rebound_days = 180          # 整改反弹: window after rectification
//! shared_account_households = 3
//! [engine]
//! memory_limit_mb = 4096
//! query_timeout_secs = 120
//! ```

use crate::PipelineError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The lake folder; the command line's `--lake` and `XUNCHA_LAKE` win.
    pub lake: Option<PathBuf>,
    pub rules: RulesConfig,
    pub thresholds: Thresholds,
    pub engine: EngineConfig,
}

/// Where rules come from besides the built-in catalogue.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// A folder of `<rule_id>.sql` files added to (or replacing) built-in rules.
    pub dir: Option<PathBuf>,
}

/// The cut-offs of the rules; each finding's evidence records the ones used.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub split_limit: u64,
    pub split_window_days: u32,
    pub travel_min: u64,
    pub travel_keywords: Vec<String>,
    pub rebound_days: u32,
    pub shared_account_households: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            split_limit: 100_000,
            split_window_days: 90,
            travel_min: 2_000,
            travel_keywords: ["旅游", "景区", "门票", "度假", "参观学习", "考察学习"].map(String::from).to_vec(),
            rebound_days: 180,
            shared_account_households: 3,
        }
    }
}

/// Query engine limits.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Memory for query execution; beyond it operators spill to disk.
    pub memory_limit_mb: u64,
    /// Analysts' queries are cancelled after this long.
    pub query_timeout_secs: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { memory_limit_mb: 4096, query_timeout_secs: 120 }
    }
}

impl Config {
    /// Reads `path`, or the defaults when it does not exist.
    pub fn load(path: &Path) -> Result<Config, PipelineError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|e| PipelineError::Config(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Parses the text of a `xuncha.toml`.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_a_full_file_parse() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let c = Config::parse("lake = \"/data/lake\"\n[thresholds]\nsplit_limit = 50000\n[engine]\nmemory_limit_mb = 1024\n").unwrap();
        assert_eq!(c.thresholds.split_limit, 50_000);
        assert_eq!(c.thresholds.rebound_days, 180);
        assert_eq!(c.engine.memory_limit_mb, 1024);
    }

    #[test]
    fn an_unknown_key_is_named() {
        let e = Config::parse("[thresholds]\nsplit_limt = 5\n").unwrap_err();
        assert!(e.contains("split_limt"), "{e}");
    }
}
