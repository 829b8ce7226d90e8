//! Reading every page of a query, for the few places that need a whole
//! partition (a campaign's leads, an organisation's records).

use futures::Stream;
use futures::TryStreamExt;
use futures::stream;
use serde::de::DeserializeOwned;
use soraaya_store::{Item, ItemStore, Query, StoreError, from_item};

/// Every item the query matches, page after page, as a stream.
pub fn query_all(
    store: &dyn ItemStore,
    query: Query,
) -> impl Stream<Item = Result<Vec<Item>, StoreError>> + Send + '_ {
    stream::try_unfold(Some(query), move |next| async move {
        let Some(query) = next else {
            return Ok(None);
        };
        let page = store.query(query.clone()).await?;
        let following = page.cursor.map(|cursor| query.after(Some(cursor)));
        Ok(Some((page.items, following)))
    })
}

/// Every item the query matches, read into records.
pub async fn collect_all<T: DeserializeOwned>(
    store: &dyn ItemStore,
    query: Query,
) -> Result<Vec<T>, StoreError> {
    let mut records = Vec::new();
    let mut pages = std::pin::pin!(query_all(store, query));
    while let Some(items) = pages.try_next().await? {
        for item in items {
            records.push(from_item(item)?);
        }
    }
    Ok(records)
}
