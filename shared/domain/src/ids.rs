//! Identifiers: time-ordered UUIDs (v7), so newer records sort after older ones.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid identifier")]
pub struct IdError;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A new identifier, ordered after every earlier one.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            pub fn parse(text: &str) -> Result<Self, IdError> {
                Uuid::parse_str(text.trim()).map($name).map_err(|_| IdError)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                $name(uuid)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }
    };
}

id_type!(
    /// An organisation (tenant).
    OrgId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A sign-in session: one family of rotating refresh tokens.
    SessionId
);
id_type!(
    /// An organisation's API key, for integrations.
    ApiKeyId
);
id_type!(
    /// A lead.
    LeadId
);
id_type!(
    /// A calling campaign.
    CampaignId
);
id_type!(
    /// An AI agent persona.
    PersonaId
);
id_type!(
    /// A call transcript.
    TranscriptId
);
id_type!(
    /// One entry of a lead's activity timeline.
    EventId
);
id_type!(
    /// A property an agent may present.
    PropertyId
);
id_type!(
    /// A notification.
    NotificationId
);
id_type!(
    /// Work bigger than one request: an import, a bulk change, an export.
    JobId
);
