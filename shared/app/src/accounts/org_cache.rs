//! Organisation profiles change rarely and are read by many writes (for their
//! time zone and default region), so each process keeps them for a minute.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use soraaya_domain::{OrgId, Organisation};

use super::AccountError;
use crate::App;

const KEEP_FOR: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct OrgCache {
    entries: RwLock<HashMap<OrgId, (Instant, Arc<Organisation>)>>,
}

impl OrgCache {
    pub async fn get(&self, app: &App, org: OrgId) -> Result<Arc<Organisation>, AccountError> {
        if let Ok(entries) = self.entries.read()
            && let Some((at, organisation)) = entries.get(&org)
            && at.elapsed() < KEEP_FOR
        {
            return Ok(Arc::clone(organisation));
        }
        let organisation = Arc::new(super::organisation(app, org).await?);
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(org, (Instant::now(), Arc::clone(&organisation)));
        }
        Ok(organisation)
    }
}
