//! Access tokens: short-lived HS256 JWTs naming the user, organisation, role
//! and session.

use std::time::Duration;

use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use soraaya_domain::{OrgId, Role, SessionId, User, UserId};

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

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
    /// Derives server-side secrets (a refresh token's successor) from the same key.
    derivation: Hmac<Sha256>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &SecretString, access_ttl: Duration) -> Self {
        let secret = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // Expiry is checked against the service clock, which tests control.
        validation.validate_exp = false;
        TokenKeys {
            derivation: Hmac::new_from_slice(secret).expect("HMAC takes a key of any length"),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    /// 32 bytes only this server can compute from `input`, for `purpose`
    /// (each purpose gets its own bytes from the same input).
    pub fn derive(&self, purpose: &str, input: &[u8]) -> [u8; 32] {
        let mut mac = self.derivation.clone();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(input);
        mac.finalize().into_bytes().into()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            &SecretString::from("k".repeat(40)),
            Duration::from_secs(15 * 60),
        )
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
            language: Default::default(),
            theme: Default::default(),
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
        let other = TokenKeys::new(
            &SecretString::from("z".repeat(40)),
            Duration::from_secs(15 * 60),
        );
        assert_eq!(other.verify_access(&token, now), Err(TokenError::Invalid));
        assert_eq!(keys.verify_access("garbage", now), Err(TokenError::Invalid));
    }
}
