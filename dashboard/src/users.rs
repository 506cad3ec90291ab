//! Dashboard users: name, role, optional scope and an argon2id password hash,
//! kept in `<lake>/_xuncha/users.json` (written atomically: temp file + rename).

use crate::DashboardError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A unit that verifies and rectifies (整改责任单位: a town, village or
    /// department, its code the user's scope): only the cases handed to it.
    Unit,
    /// Aggregates and masked lists.
    Leader,
    /// Details, evidence, the SQL console, revealing one record (audited).
    Analyst,
    /// Everything, plus users and the audit log.
    Admin,
}

impl Role {
    /// The role's Chinese name.
    pub fn label(self) -> &'static str {
        match self {
            Role::Unit => "承办单位",
            Role::Leader => "领导",
            Role::Analyst => "分析员",
            Role::Admin => "管理员",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = DashboardError;
    fn from_str(s: &str) -> Result<Role, DashboardError> {
        match s {
            "unit" => Ok(Role::Unit),
            "leader" => Ok(Role::Leader),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            other => Err(DashboardError::Usage(format!("未知角色「{other}」,应为 unit、leader、analyst 或 admin"))),
        }
    }
}

/// One user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// A county, town or village code: the user sees only its rows. For a
    /// unit: its own code (town, village or department), always set.
    pub scope: Option<String>,
    /// May take full ID numbers and names from the SQL console in bulk
    /// (up to the daily cap); everyone else gets them masked there.
    #[serde(default)]
    pub bulk_identity: bool,
    pub password_hash: String,
}

/// The users file.
#[derive(Debug, Clone)]
pub struct UserStore {
    path: PathBuf,
}

impl UserStore {
    /// The store of the lake at `lake_root`.
    pub fn of_lake(lake_root: &Path) -> UserStore {
        UserStore { path: lake_root.join("_xuncha").join("users.json") }
    }

    /// Every user, by name.
    pub fn list(&self) -> Result<Vec<User>, DashboardError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| DashboardError::Usage(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// The user called `name`.
    pub fn get(&self, name: &str) -> Result<Option<User>, DashboardError> {
        Ok(self.list()?.into_iter().find(|u| u.name == name))
    }

    /// Adds a user, or replaces one of the same name when `replace` is set.
    pub fn put(&self, name: &str, role: Role, scope: Option<String>, password: &str, replace: bool) -> Result<(), DashboardError> {
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.') {
            return Err(DashboardError::Usage(format!("用户名只能包含字母、数字、_、-、.,最长 {MAX_NAME_CHARS} 个字符")));
        }
        if password.chars().count() < 8 {
            return Err(DashboardError::Usage("密码至少 8 个字符".into()));
        }
        check_scope(role, scope.as_deref())?;
        let mut users = self.list()?;
        if !replace && users.iter().any(|u| u.name == name) {
            return Err(DashboardError::Usage(format!("用户「{name}」已存在;改密码请用 xuncha user passwd")));
        }
        let bulk_identity = users.iter().find(|u| u.name == name).is_some_and(|u| u.bulk_identity);
        users.retain(|u| u.name != name);
        users.push(User { name: name.to_string(), role, scope, bulk_identity, password_hash: hash(password)? });
        users.sort_by(|a, b| a.name.cmp(&b.name));
        self.save(&users)
    }

    /// Sets a user's password.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), DashboardError> {
        let user = self.get(name)?.ok_or_else(|| DashboardError::Usage(format!("没有用户「{name}」")))?;
        self.put(name, user.role, user.scope, password, true)
    }

    /// Changes a user's role, scope (`Some(None)`: everything) or bulk
    /// identity; their open sessions end (see `auth`).
    pub fn update(&self, name: &str, role: Option<Role>, scope: Option<Option<String>>, bulk_identity: Option<bool>) -> Result<(), DashboardError> {
        let mut users = self.list()?;
        let user = users.iter_mut().find(|u| u.name == name).ok_or_else(|| DashboardError::Usage(format!("没有用户「{name}」")))?;
        let (role, scope) = (role.unwrap_or(user.role), scope.unwrap_or_else(|| user.scope.clone()));
        check_scope(role, scope.as_deref())?;
        user.role = role;
        user.scope = scope;
        user.bulk_identity = bulk_identity.unwrap_or(user.bulk_identity);
        self.save(&users)
    }

    /// Removes a user; their open sessions end.
    pub fn remove(&self, name: &str) -> Result<(), DashboardError> {
        let mut users = self.list()?;
        let before = users.len();
        users.retain(|u| u.name != name);
        if users.len() == before {
            return Err(DashboardError::Usage(format!("没有用户「{name}」")));
        }
        self.save(&users)
    }

    /// The user, if `password` is theirs.
    pub fn verify(&self, name: &str, password: &str) -> Result<Option<User>, DashboardError> {
        let Some(user) = self.get(name)? else {
            // Spend the same time as a real check, so timing does not tell which names exist.
            let _ = hash(password);
            return Ok(None);
        };
        let parsed = PasswordHash::new(&user.password_hash).map_err(|e| DashboardError::Usage(format!("用户「{name}」的密码哈希已损坏: {e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok().then_some(user))
    }

    fn save(&self, users: &[User]) -> Result<(), DashboardError> {
        let dir = self.path.parent().expect("users.json has a folder");
        std::fs::create_dir_all(dir)?;
        let temp = dir.join("users.json.tmp");
        std::fs::write(&temp, serde_json::to_vec_pretty(users).map_err(|e| DashboardError::Usage(e.to_string()))?)?;
        std::fs::rename(&temp, &self.path)?;
        Ok(())
    }
}

/// A scope is a 12-digit code; a unit must have one (its own code).
fn check_scope(role: Role, scope: Option<&str>) -> Result<(), DashboardError> {
    match scope {
        Some(code) => xuncha_queries::scope::scope_prefix(code).map(|_| ()).map_err(Into::into),
        None if role == Role::Unit => Err(DashboardError::Usage("承办单位账号须用 --scope 给出本单位的 12 位代码(乡镇、村或部门)".into())),
        None => Ok(()),
    }
}

impl User {
    /// The unit's code when the user is a unit.
    pub fn unit(&self) -> Option<&str> {
        (self.role == Role::Unit).then_some(self.scope.as_deref()).flatten()
    }
}

/// The longest user name (a login form with a longer one is refused unread).
pub const MAX_NAME_CHARS: usize = 64;

/// An argon2id hash (PHC string) with a random salt.
fn hash(password: &str) -> Result<String, DashboardError> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| DashboardError::Usage(e.to_string()))?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_verify_and_change_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::of_lake(dir.path());
        store.put("wang", Role::Analyst, Some("430223101000".into()), "correct horse", false).unwrap();
        assert!(store.list().unwrap()[0].password_hash.starts_with("$argon2id$"));
        assert_eq!(store.verify("wang", "correct horse").unwrap().unwrap().role, Role::Analyst);
        assert!(store.verify("wang", "wrong horse").unwrap().is_none());
        assert!(store.verify("nobody", "correct horse").unwrap().is_none());
        assert!(store.put("wang", Role::Admin, None, "another one", false).is_err(), "no silent replace");
        store.set_password("wang", "battery staple").unwrap();
        assert!(store.verify("wang", "correct horse").unwrap().is_none());
        assert!(store.verify("wang", "battery staple").unwrap().is_some());
        assert!(store.put("li", Role::Leader, None, "short", false).unwrap_err().to_string().contains("8"));
        assert!(store.put("li", Role::Leader, Some("4302".into()), "long enough", false).is_err());
        assert!(store.put(&"x".repeat(65), Role::Leader, None, "long enough", false).is_err(), "names are bounded");
        store.update("wang", Some(Role::Leader), Some(None), Some(true)).unwrap();
        let wang = store.get("wang").unwrap().unwrap();
        assert_eq!((wang.role, wang.scope, wang.bulk_identity), (Role::Leader, None, true));
        store.set_password("wang", "third password").unwrap();
        assert!(store.get("wang").unwrap().unwrap().bulk_identity, "a new password keeps the grant");
        assert!(store.put("unit1", Role::Unit, None, "long enough", false).is_err(), "a unit names its code");
        store.put("unit1", Role::Unit, Some("430223101000".into()), "long enough", false).unwrap();
        assert_eq!(store.get("unit1").unwrap().unwrap().unit(), Some("430223101000"));
        assert!(store.update("unit1", None, Some(None), None).is_err());
        store.remove("wang").unwrap();
        assert!(store.get("wang").unwrap().is_none() && store.remove("wang").is_err());
    }
}
