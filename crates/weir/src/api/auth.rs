//! Who may ask: API tokens (`Authorization: Bearer`) and users with passwords (HTTP Basic, which every
//! browser asks for by itself, so the UI needs no login page), each with a role. Viewers may read
//! everything; only admins may change state (any method but GET, HEAD and OPTIONS).
//!
//! Secrets are kept hashed in the configuration: tokens as SHA-256 (they are long and random, so a fast
//! hash is enough and each request can be checked cheaply), passwords as Argon2id PHC strings (people
//! choose them, so the hash must be slow). A password that verified is remembered by the SHA-256 of what
//! was sent, so a browser's every request does not pay for Argon2 again.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Passwords remembered as verified at most; beyond, the memory starts again.
const REMEMBERED: usize = 1024;

/// What a credential allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads: questions, counters, the UI.
    Viewer,
    /// Reads and changes.
    Admin,
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "admin" => Ok(Role::Admin),
            _ => Err(format!("{s:?} is not a role; write \"viewer\" or \"admin\"")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        })
    }
}

/// An API token, known by the SHA-256 of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Who or what holds it, for logs.
    pub name: String,
    /// What it allows.
    pub role: Role,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
}

/// A user, known by name and an Argon2 hash of the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The password's hash as a PHC string (`$argon2id$v=19$...`).
    pub password: String,
}

/// The credentials a server accepts; none means no authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// API tokens.
    pub tokens: Vec<Token>,
    /// Users.
    pub users: Vec<User>,
}

impl AuthConfig {
    /// Whether requests must carry credentials.
    pub fn required(&self) -> bool {
        !self.tokens.is_empty() || !self.users.is_empty()
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Refusal {
    /// No credentials came.
    #[error(
        "authentication required: send an API token (Authorization: Bearer) or a user's password (Basic)"
    )]
    Missing,
    /// The credentials are not known.
    #[error("the credentials are not valid")]
    Invalid,
    /// The credentials do not allow this request.
    #[error("this needs the admin role")]
    Forbidden,
    /// Too many wrong credentials came from the client's address lately ([`lockout`](super::lockout)).
    #[error("too many wrong credentials from this address: try again later")]
    LockedOut,
}

/// Checks requests' credentials.
#[derive(Debug, Default)]
pub struct Auth {
    config: AuthConfig,
    /// SHA-256 of (user name, NUL, password) for passwords that verified.
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl Auth {
    /// Checks against `config`.
    pub fn new(config: AuthConfig) -> Auth {
        Auth {
            config,
            verified: Mutex::default(),
        }
    }

    /// Whether requests must carry credentials.
    pub fn required(&self) -> bool {
        self.config.required()
    }

    /// The role the `Authorization` header's credentials give, if they are valid and allow `needs`.
    pub fn check(&self, authorization: Option<&str>, needs: Role) -> Result<Role, Refusal> {
        let role = self.role(authorization.ok_or(Refusal::Missing)?)?;
        if role < needs {
            return Err(Refusal::Forbidden);
        }
        Ok(role)
    }

    fn role(&self, header: &str) -> Result<Role, Refusal> {
        let (scheme, value) = header.trim().split_once(' ').ok_or(Refusal::Invalid)?;
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
            return self
                .config
                .tokens
                .iter()
                .find(|t| t.sha256 == digest)
                .map(|t| t.role)
                .ok_or(Refusal::Invalid);
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(Refusal::Invalid);
        }
        let decoded = STANDARD.decode(value).map_err(|_| Refusal::Invalid)?;
        let text = String::from_utf8(decoded).map_err(|_| Refusal::Invalid)?;
        let (name, password) = text.split_once(':').ok_or(Refusal::Invalid)?;
        let user = self
            .config
            .users
            .iter()
            .find(|u| u.name == name)
            .ok_or(Refusal::Invalid)?;
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        let key: [u8; 32] = h.finalize().into();
        let remembered = |k: &[u8; 32]| {
            self.verified
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(k)
        };
        if remembered(&key) {
            return Ok(user.role);
        }
        let hash = PasswordHash::new(&user.password).map_err(|_| Refusal::Invalid)?;
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .map_err(|_| Refusal::Invalid)?;
        let mut set = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if set.len() >= REMEMBERED {
            set.clear();
        }
        set.insert(key);
        Ok(user.role)
    }
}

/// A new random API token (`weir_` and 64 hex digits, 256 bits) and its SHA-256 in hex.
pub fn new_token() -> Result<(String, String), getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let token = format!("weir_{}", hex(&bytes));
    let digest = hex(&Sha256::digest(token.as_bytes()));
    Ok((token, digest))
}

/// The Argon2id hash of `password` with a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// `weir config token`: a new token on standard error (it is shown once), its entry on standard output.
pub fn print_token(name: &str, role: Role) -> anyhow::Result<()> {
    let (token, digest) = new_token().map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
    eprintln!("The token (shown once; send it as `Authorization: Bearer TOKEN`):\n{token}\n");
    println!("[[http.tokens]]\nname = {name:?}\nrole = \"{role}\"\nsha256 = \"{digest}\"");
    Ok(())
}

/// `weir config password NAME`: reads the password's line from standard input, prints the user's entry.
pub fn print_password(name: &str, role: Role) -> anyhow::Result<()> {
    use std::io::{BufRead as _, IsTerminal as _};
    if std::io::stdin().is_terminal() {
        eprintln!("Password for {name} (the terminal shows it; pipe it in to keep it off the screen):");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    let hash = hash_password(password).map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    println!("[[http.users]]\nname = {name:?}\nrole = \"{role}\"\npassword = \"{hash}\"");
    Ok(())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 bytes from 64 hex digits.
pub fn sha256_from_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cheap Argon2 hash, so tests do not spend a second in a debug build.
    fn cheap_hash(password: &str) -> String {
        let params = argon2::Params::new(64, 1, 1, None).unwrap();
        let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        argon
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn auth() -> (Auth, String) {
        let (token, digest) = new_token().unwrap();
        let config = AuthConfig {
            tokens: vec![Token {
                name: "grafana".into(),
                role: Role::Viewer,
                sha256: sha256_from_hex(&digest).unwrap(),
            }],
            users: vec![User {
                name: "alice".into(),
                role: Role::Admin,
                password: cheap_hash("correct horse"),
            }],
        };
        (Auth::new(config), token)
    }

    fn basic(user_pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(user_pass))
    }

    #[test]
    fn tokens_and_passwords_give_their_roles() {
        let (auth, token) = auth();
        assert!(auth.required());
        let bearer = format!("Bearer {token}");
        assert_eq!(auth.check(Some(&bearer), Role::Viewer), Ok(Role::Viewer));
        assert_eq!(auth.check(Some(&bearer), Role::Admin), Err(Refusal::Forbidden));
        let alice = basic("alice:correct horse");
        assert_eq!(auth.check(Some(&alice), Role::Admin), Ok(Role::Admin));
        assert_eq!(
            auth.check(Some(&alice), Role::Admin),
            Ok(Role::Admin),
            "remembered"
        );
    }

    #[test]
    fn refuses_missing_wrong_and_malformed_credentials() {
        let (auth, token) = auth();
        assert_eq!(auth.check(None, Role::Viewer), Err(Refusal::Missing));
        for bad in [
            format!("Bearer {token}x"),
            "Bearer".into(),
            basic("alice:wrong"),
            basic("bob:correct horse"),
            basic("alice"),
            "Basic !!!!".into(),
            "Basic YQ".into(),
            format!("Token {token}"),
        ] {
            assert_eq!(
                auth.check(Some(&bad), Role::Viewer),
                Err(Refusal::Invalid),
                "{bad}"
            );
        }
        assert!(!Auth::default().required());
    }

    #[test]
    fn hashes_read_back() {
        let (_, digest) = new_token().unwrap();
        assert_eq!(hex(&sha256_from_hex(&digest).unwrap()), digest);
        assert!(sha256_from_hex("xyz").is_none());
        assert!(PasswordHash::new(&cheap_hash("pw")).is_ok());
        assert!("owner".parse::<Role>().is_err());
    }
}
