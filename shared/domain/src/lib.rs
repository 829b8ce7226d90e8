//! Soraaya's business vocabulary and its pure rules. Every value here validates itself on
//! construction, so once one exists it is valid; personal data prints masked
//! in `Debug` so that logs never carry it.

pub mod account;
pub mod call;
pub mod calling;
pub mod campaign;
pub mod eligibility;
mod email;
mod ids;
pub mod lead;
mod lead_status;
pub mod mask;
pub mod matching;
pub mod moment;
mod money;
mod names;
pub mod notification;
pub mod org_settings;
pub mod outcome;
pub mod persona;
mod phone;
pub mod preferences;
pub mod schema;
mod time_zone;
pub mod zones;

pub use account::{ApiKey, Organisation, Permission, Role, User};
pub use call::{CallMetadata, CallReport, CallResult, TranscriptLine};
pub use calling::{CallingHours, ClockTime, DailyWindow, legal_window};
pub use campaign::{
    CallingSettings, Campaign, CampaignAction, CampaignActionError, CampaignStatus, CampaignType,
    QualificationAnswers, QualificationCriteria, RetryDelays, Variant,
};
pub use eligibility::{Decision, SkipReason};
pub use email::{Email, EmailError};
pub use ids::{
    ApiKeyId, CampaignId, EventId, IdError, JobId, LeadId, NotificationId, OrgId, PersonaId,
    PropertyId, SessionId, TranscriptId, UserId,
};
pub use lead::{
    ChoiceError, Consent, FinancingStatus, Lead, LiveCall, Priority, PropertyPreferences,
    PropertyType, PurchaseTimeline, QueuedDial, Tags, TagsError, TimezoneSource,
};
pub use lead_status::{LeadStatus, MovedBy, Mover, TRANSITIONS, TransitionError};
pub use moment::parse_moment;
pub use money::{BudgetError, BudgetRange, Inr, MoneyError};
pub use names::{NameError, OrgName, Password, PasswordError, PersonName};
pub use notification::{Escalation, Notification, NotificationKind, NotificationStatus};
pub use org_settings::{DataRetention, ExportFormat, OrgSettings};
pub use persona::{
    Accent, AgentPersona, Availability, CommunicationStyle, Property, ScriptCustomizations,
};
pub use phone::{Phone, PhoneError, Region, RegionError};
pub use preferences::{
    ChannelPreference, DashboardPreferences, DashboardView, Language, NotificationPreferences,
    Theme,
};
pub use time_zone::{TimeZoneError, TimeZoneName};

/// Instants are UTC timestamps throughout.
pub use jiff::Timestamp;
