//! What the item store can answer instead of a result.

use std::error::Error as StdError;

/// What can go wrong talking to the item store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold; nothing was written. In a transaction,
    /// `failed` holds the indexes of the operations whose condition failed.
    #[error("condition check failed")]
    Conflict { failed: Vec<usize> },

    /// The request itself is malformed (a programming error, or a bad item).
    #[error("invalid store request: {0}")]
    Invalid(String),

    /// A pagination cursor that this store did not produce.
    #[error("invalid pagination cursor")]
    BadCursor,

    /// The store kept refusing for lack of capacity or because of competing
    /// transactions, after retries.
    #[error("the store is busy")]
    Busy(#[source] Option<Box<dyn StdError + Send + Sync>>),

    /// Stored bytes that cannot be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),

    /// Any other failure of the underlying database or service.
    #[error("item store failure")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    pub(crate) fn backend(err: impl StdError + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(err))
    }

    pub(crate) fn single_conflict() -> Self {
        StoreError::Conflict { failed: Vec::new() }
    }
}
