//! Organisation profiles change rarely and are read by many writes (for their
//! time zone and default region), so each process keeps them for a minute.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use soraaya_domain::{OrgId, Organisation};

const KEEP_FOR: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct OrgCache {
    entries: RwLock<HashMap<OrgId, (Instant, Arc<Organisation>)>>,
}

impl OrgCache {
    /// The organisation, from the cache while it is fresh, otherwise from `load`.
    pub async fn get_or_load<E, F>(&self, org: OrgId, load: F) -> Result<Arc<Organisation>, E>
    where
        F: Future<Output = Result<Organisation, E>>,
    {
        if let Ok(entries) = self.entries.read()
            && let Some((at, organisation)) = entries.get(&org)
            && at.elapsed() < KEEP_FOR
        {
            return Ok(Arc::clone(organisation));
        }
        let organisation = Arc::new(load.await?);
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(org, (Instant::now(), Arc::clone(&organisation)));
        }
        Ok(organisation)
    }

    /// Forgets an organisation, after a change to its profile.
    pub fn forget(&self, org: OrgId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&org);
        }
    }
}
