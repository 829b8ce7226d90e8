//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 passes), run on
//! the blocking pool because each hash takes tens of milliseconds of CPU.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use soraaya_domain::Password;
use tokio::sync::OnceCell;

#[derive(Debug, thiserror::Error)]
pub enum PasswordHashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// Longest password accepted for verification; longer input is simply wrong.
const MAX_CANDIDATE_BYTES: usize = 1024;

#[derive(Clone, Default)]
pub struct Passwords {
    /// A hash of nothing in particular, verified against when the account does
    /// not exist, so that unknown emails take as long as wrong passwords.
    decoy: Arc<OnceCell<String>>,
}

impl Passwords {
    pub async fn hash(&self, password: &Password) -> Result<String, PasswordHashError> {
        let password = password.expose().to_owned();
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| PasswordHashError::Hash(err.to_string()))
        })
        .await?
    }

    /// Whether `candidate` is the password behind `stored` (a PHC string).
    pub async fn verify(&self, candidate: &str, stored: &str) -> Result<bool, PasswordHashError> {
        if candidate.len() > MAX_CANDIDATE_BYTES {
            return Ok(false);
        }
        let candidate = candidate.to_owned();
        let stored = stored.to_owned();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored)
                .map_err(|err| PasswordHashError::Hash(err.to_string()))?;
            Ok(Argon2::default()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
    }

    /// Spends the time of one verification without an account to verify.
    pub async fn verify_decoy(&self, candidate: &str) -> Result<(), PasswordHashError> {
        let decoy = self
            .decoy
            .get_or_try_init(|| async {
                let decoy = Password::parse("decoy password, never valid")
                    .map_err(|err| PasswordHashError::Hash(err.to_string()))?;
                self.hash(&decoy).await
            })
            .await?
            .clone();
        self.verify(candidate, &decoy).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let passwords = Passwords::default();
        let password = Password::parse("correct horse battery").unwrap();
        let first = passwords.hash(&password).await.unwrap();
        let second = passwords.hash(&password).await.unwrap();
        assert_ne!(first, second, "salted");
        assert!(first.starts_with("$argon2id$"));
        assert!(
            passwords
                .verify("correct horse battery", &first)
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("wrong horse battery", &first)
                .await
                .unwrap()
        );
        assert!(passwords.verify("x", "not a hash").await.is_err());
        passwords.verify_decoy("anything").await.unwrap();
    }
}
