//! Opaque tokens handed out: refresh tokens (rotating, one family per
//! sign-in session), password reset tokens (one per user at a time) and an
//! organisation's API keys.
//! Each names where its record is and carries a secret of 32 random bytes,
//! of which only a SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use soraaya_core::tokens::{TokenError, TokenKeys};
use soraaya_domain::{ApiKeyId, OrgId, SessionId, UserId};

/// A refresh token: `v1.{org}.{user}.{session}.{secret}`. The ids locate the
/// session; only a hash of the secret is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub org: OrgId,
    pub user: UserId,
    pub session: SessionId,
    secret: String,
}

impl RefreshToken {
    pub fn generate(org: OrgId, user: UserId, session: SessionId) -> Self {
        RefreshToken {
            org,
            user,
            session,
            secret: new_secret(),
        }
    }

    /// The token that replaces this one. It is derived, not drawn: whoever
    /// presents this token again gets the same successor, which is how a
    /// retried refresh is answered with the pair the first one got.
    pub fn successor(&self, keys: &TokenKeys) -> Self {
        let bytes = keys.derive("refresh-token-successor", self.secret.as_bytes());
        RefreshToken {
            org: self.org,
            user: self.user,
            session: self.session,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let [org, user, session, secret] = parts(text, "v1")?;
        Ok(RefreshToken {
            org: OrgId::parse(org).map_err(|_| TokenError::Invalid)?,
            user: UserId::parse(user).map_err(|_| TokenError::Invalid)?,
            session: SessionId::parse(session).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// The stored form of the secret.
    pub fn secret_hash(&self) -> String {
        hash_secret(&self.secret)
    }

    /// The text handed to the client.
    pub fn expose(&self) -> String {
        format!(
            "v1.{}.{}.{}.{}",
            self.org, self.user, self.session, self.secret
        )
    }
}

/// A password reset token: `r1.{org}.{user}.{secret}`, sent by email as
/// part of a link. The ids locate the user's one reset record.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetToken {
    pub org: OrgId,
    pub user: UserId,
    secret: String,
}

impl ResetToken {
    pub fn generate(org: OrgId, user: UserId) -> Self {
        ResetToken {
            org,
            user,
            secret: new_secret(),
        }
    }

    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let [org, user, secret] = parts(text, "r1")?;
        Ok(ResetToken {
            org: OrgId::parse(org).map_err(|_| TokenError::Invalid)?,
            user: UserId::parse(user).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// The stored form of the secret.
    pub fn secret_hash(&self) -> String {
        hash_secret(&self.secret)
    }

    /// The text put in the link (URL-safe as it is).
    pub fn expose(&self) -> String {
        format!("r1.{}.{}.{}", self.org, self.user, self.secret)
    }
}

impl std::fmt::Debug for ResetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetToken")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// An API key: `sk1.{org}.{key}.{secret}`. The ids locate the key's record.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyToken {
    pub org: OrgId,
    pub key: ApiKeyId,
    secret: String,
}

impl ApiKeyToken {
    pub fn generate(org: OrgId, key: ApiKeyId) -> Self {
        ApiKeyToken {
            org,
            key,
            secret: new_secret(),
        }
    }

    /// Whether `text` is written as an API key (not whether it is one).
    pub fn looks_like(text: &str) -> bool {
        text.trim().starts_with("sk1.")
    }

    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let [org, key, secret] = parts(text, "sk1")?;
        Ok(ApiKeyToken {
            org: OrgId::parse(org).map_err(|_| TokenError::Invalid)?,
            key: ApiKeyId::parse(key).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// The stored form of the secret.
    pub fn secret_hash(&self) -> String {
        hash_secret(&self.secret)
    }

    /// What the key is shown as once it is stored: its scheme and the
    /// secret's first characters.
    pub fn prefix(&self) -> String {
        format!("sk1…{}", &self.secret[..6])
    }

    /// The text handed to the admin, once.
    pub fn expose(&self) -> String {
        format!("sk1.{}.{}.{}", self.org, self.key, self.secret)
    }
}

impl std::fmt::Debug for ApiKeyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyToken")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `N` dot-separated parts after `version` of a token whose last part
/// is a secret of 32 bytes; anything else is not a token of this kind.
fn parts<'t, const N: usize>(text: &'t str, version: &str) -> Result<[&'t str; N], TokenError> {
    let mut pieces = text.trim().split('.');
    if pieces.next() != Some(version) {
        return Err(TokenError::Invalid);
    }
    let found: Vec<&str> = pieces.collect();
    let parts: [&str; N] = found.try_into().map_err(|_| TokenError::Invalid)?;
    match parts.last().map(|secret| URL_SAFE_NO_PAD.decode(secret)) {
        Some(Ok(decoded)) if decoded.len() == 32 => Ok(parts),
        _ => Err(TokenError::Invalid),
    }
}

fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_reject_garbage() {
        let token = RefreshToken::generate(OrgId::new(), UserId::new(), SessionId::new());
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.secret_hash(), token.secret_hash());
        for bad in [
            "",
            "v1.a.b.c.d",
            "v2.x",
            &format!("{}.extra", token.expose()),
        ] {
            assert_eq!(RefreshToken::parse(bad), Err(TokenError::Invalid), "{bad}");
        }
    }

    #[test]
    fn reset_tokens_round_trip_and_are_not_refresh_tokens() {
        let token = ResetToken::generate(OrgId::new(), UserId::new());
        let parsed = ResetToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.secret_hash(), token.secret_hash());
        let refresh = RefreshToken::generate(OrgId::new(), UserId::new(), SessionId::new());
        assert_eq!(
            ResetToken::parse(&refresh.expose()),
            Err(TokenError::Invalid)
        );
        assert_eq!(ResetToken::parse("r1.a.b.c"), Err(TokenError::Invalid));
    }

    #[test]
    fn api_keys_round_trip_and_are_no_other_token() {
        let token = ApiKeyToken::generate(OrgId::new(), ApiKeyId::new());
        let text = token.expose();
        assert!(ApiKeyToken::looks_like(&text));
        assert_eq!(ApiKeyToken::parse(&text).unwrap(), token);
        assert!(token.prefix().starts_with("sk1…"));
        assert!(!text.contains(&token.secret_hash()));
        let reset = ResetToken::generate(OrgId::new(), UserId::new());
        assert_eq!(
            ApiKeyToken::parse(&reset.expose()),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            ApiKeyToken::parse(&format!("{text}x")),
            Err(TokenError::Invalid)
        );
    }
}
