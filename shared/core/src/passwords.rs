//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 passes), run on
//! the blocking pool because each hash takes tens of milliseconds of CPU.
//!
//! At most one hash per core runs at once, each in a 19 MiB block of memory
//! kept for it and used again: a burst of sign-ins cannot take more memory
//! than that (unbounded, 32 concurrent failed logins took a server from
//! 140 MB to 768 MB, and glibc kept 483 MB of it), and a request that finds
//! every hasher busy for [`QUEUE_WAIT`] is told to come back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use soraaya_domain::Password;
use subtle::ConstantTimeEq;
use tokio::sync::{OnceCell, Semaphore};

#[derive(Debug, thiserror::Error)]
pub enum PasswordHashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Task(#[from] tokio::task::JoinError),
    /// Every hasher stayed busy for the whole wait.
    #[error("too many sign-ins at once; try again in a moment")]
    Busy { retry_after: Duration },
}

/// Longest password accepted for verification; longer input is simply wrong.
const MAX_CANDIDATE_BYTES: usize = 1024;

/// How long a request waits for a free hasher before it is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Memory of one hash, in Argon2's 1 KiB blocks.
const BLOCKS: usize = Params::DEFAULT_M_COST as usize;

#[derive(Clone)]
pub struct Passwords {
    /// A hash of nothing in particular, verified against when the account does
    /// not exist, so that unknown emails take as long as wrong passwords.
    decoy: Arc<OnceCell<String>>,
    /// One permit per hasher.
    hashers: Arc<Semaphore>,
    /// How long a request waits for one.
    wait: Duration,
    /// The hashers' memory, taken and given back around each hash.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Passwords::with_hashers(cores, QUEUE_WAIT)
    }
}

impl Passwords {
    /// At most `hashers` hashes at once; a request waits at most `wait` for one.
    pub fn with_hashers(hashers: usize, wait: Duration) -> Passwords {
        let hashers = hashers.max(1);
        Passwords {
            decoy: Arc::default(),
            hashers: Arc::new(Semaphore::new(hashers)),
            wait,
            memory: Arc::new(Mutex::new(Vec::with_capacity(hashers))),
        }
    }

    /// Runs `work` on the blocking pool with a hasher's memory, once one is free.
    async fn with_hasher<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> Result<T, PasswordHashError> + Send + 'static,
    ) -> Result<T, PasswordHashError> {
        let permit = tokio::time::timeout(self.wait, self.hashers.clone().acquire_owned())
            .await
            .map_err(|_| PasswordHashError::Busy {
                retry_after: Duration::from_secs(1),
            })?
            .map_err(|_| PasswordHashError::Hash("the hashers are closed".into()))?;
        let memory = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let taken = memory.lock().ok().and_then(|mut pool| pool.pop());
            let mut blocks = taken.unwrap_or_else(|| vec![Block::default(); BLOCKS]);
            let result = work(&mut blocks);
            if let Ok(mut pool) = memory.lock() {
                pool.push(blocks);
            }
            drop(permit);
            result
        })
        .await?
    }

    /// Hashes a new password (Argon2id with today's parameters and a fresh
    /// 16-byte salt) in a pooled hasher's memory, like a verification.
    pub async fn hash(&self, password: &Password) -> Result<String, PasswordHashError> {
        let password = password.expose().to_owned();
        self.with_hasher(move |blocks| hash_in(blocks, &password))
            .await
    }

    /// Whether `candidate` is the password behind `stored` (a PHC string).
    pub async fn verify(&self, candidate: &str, stored: &str) -> Result<bool, PasswordHashError> {
        if candidate.len() > MAX_CANDIDATE_BYTES {
            return Ok(false);
        }
        let candidate = candidate.to_owned();
        let stored = stored.to_owned();
        self.with_hasher(move |blocks| verify_in(blocks, &candidate, &stored))
            .await
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

fn bad(err: impl std::fmt::Display) -> PasswordHashError {
    PasswordHashError::Hash(err.to_string())
}

/// Hashes in the given memory, into a PHC string.
fn hash_in(blocks: &mut [Block], password: &str) -> Result<String, PasswordHashError> {
    let argon = Argon2::default();
    let params = Params::default();
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            &mut blocks[..params.block_count()],
        )
        .map_err(bad)?;
    let hash = PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(&params).map_err(bad)?,
        salt: Some(Salt::new(&salt).map_err(bad)?),
        hash: Some(Output::new(&out).map_err(bad)?),
    };
    Ok(hash.to_string())
}

/// Verifies in the given memory: the hash of `candidate` with the stored
/// parameters and salt, compared in constant time.
fn verify_in(
    blocks: &mut [Block],
    candidate: &str,
    stored: &str,
) -> Result<bool, PasswordHashError> {
    let parsed = PasswordHash::new(stored).map_err(bad)?;
    let params = Params::try_from(&parsed).map_err(bad)?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(bad)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(bad)?
        .unwrap_or_default();
    let salt = parsed.salt.as_ref().ok_or_else(|| bad("no salt"))?;
    let expected = parsed.hash.as_ref().ok_or_else(|| bad("no hash"))?;
    let mut out = vec![0u8; expected.as_ref().len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let needed = params.block_count();
    let result = if needed <= blocks.len() {
        argon.hash_password_into_with_memory(
            candidate.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut blocks[..needed],
        )
    } else {
        // Stronger parameters than today's: memory of their own.
        argon.hash_password_into(candidate.as_bytes(), salt.as_ref(), &mut out)
    };
    result.map_err(bad)?;
    Ok(bool::from(out.as_slice().ct_eq(expected.as_ref())))
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
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        // The same PHC string the argon2 crate's own hasher reads.
        use argon2::password_hash::PasswordVerifier;
        Argon2::default()
            .verify_password(b"correct horse battery", first.as_str())
            .unwrap();
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

    #[tokio::test]
    async fn at_most_one_hash_per_hasher_runs_and_the_rest_are_told_to_wait() {
        let password = Password::parse("correct horse battery").unwrap();
        let stored = Passwords::default().hash(&password).await.unwrap();
        let passwords = Passwords::with_hashers(1, Duration::from_millis(1));
        let tries = (0..6).map(|_| passwords.verify("wrong horse battery", &stored));
        let results = futures::future::join_all(tries).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(PasswordHashError::Busy { .. })))
            .count();
        assert!(busy >= 1, "{results:?}");
        assert!(
            results.iter().any(|r| matches!(r, Ok(false))),
            "{results:?}"
        );
        // One block of memory was ever made, and it is kept for the next hash.
        assert_eq!(passwords.memory.lock().unwrap().len(), 1);

        let patient = Passwords::with_hashers(2, Duration::from_secs(30));
        let tries = (0..6).map(|_| patient.verify("correct horse battery", &stored));
        for result in futures::future::join_all(tries).await {
            assert!(result.unwrap());
        }
        assert!(patient.memory.lock().unwrap().len() <= 2);
    }
}
