//! Permission checks that run before the request is read: a handler that
//! takes `caller: Permitted<may::LeadsWrite>` answers `403 forbidden` to a
//! role without `leads:write` before its path, query or body is looked at, so
//! a caller without the permission learns nothing about what a valid request
//! would be. Extractors run in argument order and the body's always last.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use soraaya_accounts::Caller;
use soraaya_domain::Permission;

use crate::ApiState;
use crate::error::{ApiError, Require};

/// What a handler asks of the caller's role: one permission, or (for an
/// operation whose body picks the permission, such as a lead job) any of a
/// few, the exact one then checked once the body is read.
pub trait Needs {
    const ANY_OF: &'static [Permission];
}

/// The signed-in caller, known to hold what `P` needs.
#[derive(Debug, Clone)]
pub struct Permitted<P>(Caller, PhantomData<P>);

impl<P> Deref for Permitted<P> {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl<P: Needs + Send + Sync> FromRequestParts<ApiState> for Permitted<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &ApiState) -> Result<Self, ApiError> {
        let caller = crate::extract::caller(parts, app, P::ANY_OF).await?;
        match P::ANY_OF.iter().find(|p| caller.can(**p)) {
            Some(_) => Ok(Permitted(caller, PhantomData)),
            None => Err(caller
                .require(P::ANY_OF[0])
                .expect_err("the caller holds none of the permissions")),
        }
    }
}

/// The markers handlers name: `Permitted<may::CampaignsManage>`.
pub mod may {
    use super::{Needs, Permission};

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {$(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Needs for $name {
                const ANY_OF: &'static [Permission] = &[Permission::$name];
            }
        )*};
    }

    markers!(
        UsersManage,
        OrgSettings,
        LeadsRead,
        LeadsWrite,
        LeadsStatus,
        LeadsNotes,
        LeadsImport,
        LeadsExport,
        LeadsDelete,
        DncManage,
        CampaignsRead,
        CampaignsManage,
        CallingControl,
        NotificationsRead,
        NotificationsManage,
        DashboardRead,
    );

    /// Any lead job but an import: bulk update (`leads:write`), bulk delete
    /// (`leads:delete`) or export (`leads:export`); the job's kind decides.
    #[derive(Debug, Clone, Copy)]
    pub struct RunLeadJobs;
    impl Needs for RunLeadJobs {
        const ANY_OF: &'static [Permission] = &[
            Permission::LeadsWrite,
            Permission::LeadsDelete,
            Permission::LeadsExport,
        ];
    }
}
