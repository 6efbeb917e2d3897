//! API accounts: random `api_login` and token per user, only the token's SHA-256 stored.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::model::now;
use super::store::{Store, StoreError};

/// Freshly issued credentials; the token exists in clear only here.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    pub username: String,
    pub login: String,
    pub token: String,
    /// Expiry as `YYYY-MM-DD`.
    pub expiration: String,
}

pub fn random_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

fn random_login() -> String {
    let mut rng = rand::rng();
    (0..30)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect()
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compare a presented token with a stored hash in constant time.
pub fn token_matches(stored_hash: &str, token: &str) -> bool {
    let h = hash_token(token);
    if h.len() != stored_hash.len() {
        return false;
    }
    h.bytes()
        .zip(stored_hash.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

pub fn format_date(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .map(|t| {
            let d = t.date();
            format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
        })
        .unwrap_or_default()
}

/// Create a user with a new token.
pub async fn add_user(
    store: &Store,
    username: &str,
    admin: bool,
    lifetime_days: i64,
) -> Result<Credentials, StoreError> {
    if !super::names::valid_username(username) {
        return Err(StoreError::Invalid(format!(
            "invalid user name `{username}`: use letters, digits, `_`, `.` and `-`"
        )));
    }
    let token = random_token();
    let expires = now() + lifetime_days * 86400;
    let user = store
        .create_user(
            username,
            &random_login(),
            &hash_token(&token),
            expires,
            admin,
        )
        .await?;
    Ok(Credentials {
        username: user.username,
        login: user.api_login,
        token,
        expiration: format_date(expires),
    })
}

/// Issue a new token for an existing user (the old one stops working).
pub async fn renew_token(
    store: &Store,
    user_id: i64,
    lifetime_days: i64,
) -> Result<Credentials, StoreError> {
    let user = store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {user_id} does not exist")))?;
    let token = random_token();
    let expires = now() + lifetime_days * 86400;
    store
        .set_token(user.id, &hash_token(&token), expires)
        .await?;
    Ok(Credentials {
        username: user.username,
        login: user.api_login,
        token,
        expiration: format_date(expires),
    })
}

/// A `~/.config/copr` file for these credentials, in copr-cli's format.
pub fn copr_cli_config(c: &Credentials, copr_url: &str) -> String {
    format!(
        "[copr-cli]\nlogin = {}\nusername = {}\ntoken = {}\ncopr_url = {}\n# expiration date: {}\n",
        c.login, c.username, c.token, copr_url, c.expiration
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_roundtrip() {
        let t = random_token();
        assert_eq!(t.len(), 40);
        assert!(token_matches(&hash_token(&t), &t));
        assert!(!token_matches(&hash_token(&t), "nope"));
        assert_eq!(format_date(0), "1970-01-01");
    }
}
