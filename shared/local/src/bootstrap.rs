//! Local mode: the first organisation and admin, and the signing secret kept
//! in the data directory so that tokens survive restarts.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use soraaya_domain::{
    Email, OrgName, Organisation, Password, PersonName, Region, TimeZoneName, User,
};

use soraaya_accounts::{self as accounts, AccountError, NewOrganisation};
use soraaya_core::App;
use soraaya_core::config::{ConfigError, MIN_JWT_SECRET_BYTES};

/// Who to create on first start.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub org_name: OrgName,
    pub email: Email,
    /// `None`: generate one and hand it back once.
    pub password: Option<Password>,
}

impl FirstAdmin {
    /// From `SORAAYA_ORG_NAME`, `SORAAYA_ADMIN_EMAIL` and `SORAAYA_ADMIN_PASSWORD`,
    /// defaulting to `admin@soraaya.local` with a generated password.
    pub fn from_env() -> Result<FirstAdmin, ConfigError> {
        let invalid = |name, reason: String| ConfigError::Invalid { name, reason };
        let org_name =
            std::env::var("SORAAYA_ORG_NAME").unwrap_or_else(|_| "Soraaya Realty".into());
        let email =
            std::env::var("SORAAYA_ADMIN_EMAIL").unwrap_or_else(|_| "admin@soraaya.local".into());
        let password = std::env::var("SORAAYA_ADMIN_PASSWORD").ok();
        let email =
            Email::parse(&email).map_err(|e| invalid("SORAAYA_ADMIN_EMAIL", e.to_string()))?;
        Ok(FirstAdmin {
            org_name: OrgName::parse(&org_name)
                .map_err(|e| invalid("SORAAYA_ORG_NAME", e.to_string()))?,
            password: password
                .map(|p| Password::for_account(&p, &email))
                .transpose()
                .map_err(|e| invalid("SORAAYA_ADMIN_PASSWORD", e.to_string()))?,
            email,
        })
    }
}

/// What the first start created.
#[derive(Debug)]
pub struct Bootstrapped {
    pub organisation: Organisation,
    pub admin: User,
    /// The generated password, to show once.
    pub generated_password: Option<String>,
}

/// Creates the first organisation and admin if the store has no organisation.
pub async fn bootstrap_if_empty(
    app: &App,
    first: FirstAdmin,
) -> Result<Option<Bootstrapped>, AccountError> {
    if !accounts::list_organisations(app).await?.is_empty() {
        return Ok(None);
    }
    let (password, generated_password) = match first.password {
        Some(password) => (password, None),
        None => {
            let text = generate_password();
            let password = Password::parse(&text).expect("generated passwords meet the policy");
            (password, Some(text))
        }
    };
    let (organisation, admin) = accounts::create_organisation(
        app,
        NewOrganisation {
            name: first.org_name,
            default_region: Region::INDIA,
            time_zone: TimeZoneName::india(),
            admin_email: first.email,
            admin_name: PersonName::parse("Administrator").expect("a valid name"),
            admin_password: password,
        },
    )
    .await?;
    Ok(Some(Bootstrapped {
        organisation,
        admin,
        generated_password,
    }))
}

/// A random password of 20 letters and digits (about 119 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The token-signing secret stored in `data_dir/jwt-secret`, created (readable
/// by the owner only) on first use.
pub fn load_or_create_secret(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= MIN_JWT_SECRET_BYTES => {
            return Ok(secret.trim().to_owned());
        }
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_the_policy_and_differ() {
        let a = generate_password();
        assert!(Password::parse(&a).is_ok());
        assert_ne!(a, generate_password());
    }

    #[test]
    fn the_secret_is_kept_between_starts() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(load_or_create_secret(dir.path()).unwrap(), first);
        assert!(first.len() >= 32);
    }
}
