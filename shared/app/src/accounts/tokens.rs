//! Access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, rotating).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use soraaya_domain::{OrgId, Role, SessionId, User, UserId};

use crate::config::Config;

const ISSUER: &str = "soraaya";
const AUDIENCE: &str = "soraaya-api";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or its signature is wrong")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: UserId,
    pub org: OrgId,
    pub role: Role,
    /// The user's name when the token was issued, for activity records.
    pub name: String,
    pub sid: SessionId,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Signing and verification keys, built once from the configuration.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl TokenKeys {
    pub fn new(config: &Config) -> Self {
        let secret = config.jwt_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // Expiry is checked against the service clock, which tests control.
        validation.validate_exp = false;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl: config.access_token_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn issue_access(&self, user: &User, session: SessionId, now: Timestamp) -> String {
        let iat = now.as_second();
        let claims = AccessClaims {
            sub: user.id,
            org: user.org_id,
            role: user.role,
            name: user.full_name.to_string(),
            sid: session,
            iat,
            exp: iat + i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    pub fn verify_access(&self, token: &str, now: Timestamp) -> Result<AccessClaims, TokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.exp <= now.as_second() {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}

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
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        RefreshToken {
            org,
            user,
            session,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let mut parts = text.trim().split('.');
        let (Some("v1"), Some(org), Some(user), Some(session), Some(secret), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Invalid);
        };
        let decoded = URL_SAFE_NO_PAD
            .decode(secret)
            .map_err(|_| TokenError::Invalid)?;
        if decoded.len() != 32 {
            return Err(TokenError::Invalid);
        }
        Ok(RefreshToken {
            org: OrgId::parse(org).map_err(|_| TokenError::Invalid)?,
            user: UserId::parse(user).map_err(|_| TokenError::Invalid)?,
            session: SessionId::parse(session).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// The stored form of the secret.
    pub fn secret_hash(&self) -> String {
        let digest = Sha256::digest(self.secret.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The text handed to the client.
    pub fn expose(&self) -> String {
        format!(
            "v1.{}.{}.{}.{}",
            self.org, self.user, self.session, self.secret
        )
    }
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

    fn keys() -> TokenKeys {
        TokenKeys::new(&Config::with_secret("k".repeat(40)).unwrap())
    }

    fn user(role: Role) -> User {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        User {
            id: UserId::new(),
            org_id: OrgId::new(),
            email: soraaya_domain::Email::parse("asha@example.com").unwrap(),
            full_name: soraaya_domain::PersonName::parse("Asha Kapoor").unwrap(),
            role,
            is_active: true,
            time_zone: None,
            profile_picture_url: None,
            notification_preferences: Default::default(),
            dashboard_preferences: Default::default(),
            last_login_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn access_tokens_verify_until_they_expire() {
        let keys = keys();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let (user, sid) = (user(Role::Manager), SessionId::new());
        let token = keys.issue_access(&user, sid, now);
        let claims = keys.verify_access(&token, now).unwrap();
        assert_eq!(
            (
                claims.sub,
                claims.org,
                claims.role,
                claims.sid,
                claims.name.as_str()
            ),
            (user.id, user.org_id, Role::Manager, sid, "Asha Kapoor")
        );
        let later = now + jiff::SignedDuration::from_secs(15 * 60);
        assert_eq!(keys.verify_access(&token, later), Err(TokenError::Expired));
        let other = TokenKeys::new(&Config::with_secret("z".repeat(40)).unwrap());
        assert_eq!(other.verify_access(&token, now), Err(TokenError::Invalid));
        assert_eq!(keys.verify_access("garbage", now), Err(TokenError::Invalid));
    }

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
}
