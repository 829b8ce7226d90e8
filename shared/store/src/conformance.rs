//! The behaviour every [`ItemStore`] adapter must show. The tests crate runs
//! each case against the embedded store and against DynamoDB (moto).

#![allow(clippy::unwrap_used)] // test code: a failed step should stop the test

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::{
    AttributeValue, BatchOp, Condition, ConditionCheck, Cursor, Delete, IndexDef, Item, ItemStore,
    Key, Projection, Put, Query, SortKeyCondition, StoreError, TableDef, Update, UpdateItem,
    WriteOp, from_item,
};

/// The table every case uses: one index, and a TTL attribute.
pub static TABLE: TableDef = TableDef {
    name: "conformance",
    indexes: &[
        IndexDef {
            name: "by_owner",
            pk: "owner",
            sk: "rank",
            projection: Projection::All,
        },
        IndexDef {
            name: "by_colour",
            pk: "colour",
            sk: "shade",
            projection: Projection::Include(&["size"]),
        },
    ],
    ttl_attribute: Some("expires_at"),
};

/// Every table the suite needs, for adapters that must create them first.
pub static TABLES: &[&TableDef] = &[&TABLE];

type Store = Arc<dyn ItemStore>;

fn item(pk: &str, sk: &str, attrs: &[(&str, AttributeValue)]) -> Item {
    let mut item = Key::new(pk, sk).to_item();
    for (name, value) in attrs {
        item.insert((*name).to_owned(), value.clone());
    }
    item
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item.get("sk") {
            Some(AttributeValue::S(sk)) => sk.clone(),
            other => panic!("item without sk: {other:?}"),
        })
        .collect()
}

fn expect_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Vec<usize> {
    match result {
        Err(StoreError::Conflict { failed }) => failed,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Every attribute type survives a round trip.
pub async fn put_get_round_trip(store: Store) {
    let original = item(
        "rt",
        "1",
        &[
            ("s", s("héllo, ₹")),
            ("n", AttributeValue::N("-12.5".into())),
            ("yes", AttributeValue::Bool(true)),
            ("nothing", AttributeValue::Null(true)),
            ("bin", AttributeValue::B(vec![0, 1, 254])),
            (
                "map",
                AttributeValue::M(HashMap::from([
                    ("inner".to_owned(), s("x")),
                    ("list".to_owned(), AttributeValue::L(vec![n(1), s("two")])),
                ])),
            ),
            ("tags", AttributeValue::Ss(vec!["a".into(), "b".into()])),
            ("empty", s("")),
        ],
    );
    store.put(Put::new(&TABLE, original.clone())).await.unwrap();
    let read = store
        .get(&TABLE, Key::new("rt", "1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.get("s"), original.get("s"));
    assert_eq!(read.get("map"), original.get("map"));
    assert_eq!(read.get("bin"), original.get("bin"));
    assert_eq!(read.get("yes"), original.get("yes"));
    assert_eq!(read.get("nothing"), original.get("nothing"));
    assert_eq!(read.get("empty"), original.get("empty"));
    let mut tags = match read.get("tags") {
        Some(AttributeValue::Ss(tags)) => tags.clone(),
        other => panic!("tags: {other:?}"),
    };
    tags.sort();
    assert_eq!(tags, vec!["a", "b"]);
    assert!(
        store
            .get(&TABLE, Key::new("rt", "2"))
            .await
            .unwrap()
            .is_none()
    );
}

/// Batch reads of any size skip missing keys and repeated ones.
pub async fn get_many_reads_any_number(store: Store) {
    let ops = (0..130)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item("gm", &format!("{i:04}"), &[("i", n(i))]),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    let mut keys: Vec<Key> = (0..140)
        .map(|i| Key::new("gm", format!("{i:04}")))
        .collect();
    keys.push(Key::new("gm", "0007"));
    let found = store.get_many(&TABLE, keys).await.unwrap();
    let mut got = sks(&found);
    got.sort();
    let expected: Vec<String> = (0..130).map(|i| format!("{i:04}")).collect();
    assert_eq!(got, expected);
    assert!(store.get_many(&TABLE, Vec::new()).await.unwrap().is_empty());
}

/// Items read for records come with their keys and read as `from_item` reads
/// the decoded item.
pub async fn stored_items_read_like_decoded_ones(store: Store) {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Row {
        sk: String,
        i: u32,
        missing: Option<String>,
    }
    let ops = (0..30)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item("gs", &format!("{i:04}"), &[("i", n(i)), ("s", s("x"))]),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    let mut keys: Vec<Key> = (0..35).map(|i| Key::new("gs", format!("{i:04}"))).collect();
    keys.push(Key::new("gs", "0003"));
    let mut stored = store.get_stored(&TABLE, keys.clone()).await.unwrap();
    stored.sort_by(|a, b| a.key().cmp(b.key()));
    let mut decoded = store.get_many(&TABLE, keys).await.unwrap();
    decoded.sort_by_key(|item| Key::of(item).unwrap());
    assert_eq!(stored.len(), 30);
    assert_eq!(stored.len(), decoded.len());
    for (stored, item) in stored.into_iter().zip(decoded) {
        assert_eq!(stored.key(), &Key::of(&item).unwrap());
        assert_eq!(stored.clone().into_item().unwrap(), item);
        let row: Row = stored.read().unwrap();
        assert_eq!(row, from_item::<Row>(item).unwrap());
        assert_eq!(row.missing, None);
    }
}

/// A failed condition is a typed conflict and writes nothing.
pub async fn conditional_put_conflicts(store: Store) {
    let first = item("cp", "1", &[("v", n(1))]);
    store
        .put(Put::new(&TABLE, first).if_absent())
        .await
        .unwrap();
    let second = item("cp", "1", &[("v", n(2))]);
    expect_conflict(store.put(Put::new(&TABLE, second).if_absent()).await);
    let read = store
        .get(&TABLE, Key::new("cp", "1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.get("v"), Some(&n(1)));

    // Optimistic concurrency on a version attribute.
    let next = item("cp", "1", &[("v", n(3))]);
    expect_conflict(
        store
            .put(Put::new(&TABLE, next.clone()).when(Condition::eq("v", 2)))
            .await,
    );
    store
        .put(Put::new(&TABLE, next).when(Condition::eq("v", 1)))
        .await
        .unwrap();
}

/// Comparisons follow DynamoDB when the attribute is missing or of another type.
pub async fn missing_attributes_compare_like_dynamodb(store: Store) {
    store
        .put(Put::new(&TABLE, item("ma", "1", &[("a", s("x"))])))
        .await
        .unwrap();
    let key = || Key::new("ma", "1");
    let touch = |condition: Condition| {
        UpdateItem::new(&TABLE, key(), Update::new().add("touched", 1)).when(condition)
    };
    store
        .update(touch(Condition::ne("missing", "x")))
        .await
        .unwrap();
    store.update(touch(Condition::ne("a", 5))).await.unwrap();
    expect_conflict(store.update(touch(Condition::eq("missing", "x"))).await);
    expect_conflict(store.update(touch(Condition::lt("missing", "x"))).await);
    // (Ordering across types is false too, but moto crashes on it; the embedded
    // evaluator's unit tests cover that case.)
    expect_conflict(store.update(touch(Condition::gt("a", "y"))).await);
    store
        .update(touch(
            Condition::is_in("a", ["w", "x"]).and(Condition::begins_with("a", "x")),
        ))
        .await
        .unwrap();
    expect_conflict(store.update(touch(Condition::eq("a", "x").not())).await);
    let read = store.get(&TABLE, key()).await.unwrap().unwrap();
    assert_eq!(read.get("touched"), Some(&n(3)));
}

/// SET, REMOVE, ADD and if_not_exists; an update creates a missing item.
pub async fn updates_and_counters(store: Store) {
    let created = store
        .update(UpdateItem::new(
            &TABLE,
            Key::new("up", "1"),
            Update::new().set("name", "first").add("count", 5),
        ))
        .await
        .unwrap();
    assert_eq!(created.get("count"), Some(&n(5)));
    assert_eq!(created.get("pk"), Some(&s("up")));

    let updated = store
        .update(UpdateItem::new(
            &TABLE,
            Key::new("up", "1"),
            Update::new()
                .add("count", -7)
                .remove("name")
                .set_if_absent("created", "then")
                .set("note", "n"),
        ))
        .await
        .unwrap();
    assert_eq!(updated.get("count"), Some(&n(-2)));
    assert!(updated.get("name").is_none());
    assert_eq!(updated.get("created"), Some(&s("then")));

    let again = store
        .update(UpdateItem::new(
            &TABLE,
            Key::new("up", "1"),
            Update::new().set_if_absent("created", "now"),
        ))
        .await
        .unwrap();
    assert_eq!(again.get("created"), Some(&s("then")));

    expect_conflict(
        store
            .update(
                UpdateItem::new(&TABLE, Key::new("up", "2"), Update::new().add("count", 1))
                    .if_present(),
            )
            .await,
    );
    assert!(
        store
            .get(&TABLE, Key::new("up", "2"))
            .await
            .unwrap()
            .is_none()
    );
}

/// Concurrent conditional writes: exactly one wins.
pub async fn concurrent_conditional_writes_have_one_winner(store: Store) {
    store
        .put(Put::new(&TABLE, item("cc", "1", &[("version", n(0))])))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .update(
                    UpdateItem::new(
                        &TABLE,
                        Key::new("cc", "1"),
                        Update::new().set("version", 1).set("writer", writer),
                    )
                    .when(Condition::eq("version", 0)),
                )
                .await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(err) => assert!(err.is_conflict(), "unexpected error {err:?}"),
        }
    }
    assert_eq!(wins, 1);
}

/// A conditional delete deletes only when the condition holds.
pub async fn conditional_delete(store: Store) {
    store
        .put(Put::new(&TABLE, item("cd", "1", &[("state", s("open"))])))
        .await
        .unwrap();
    expect_conflict(
        store
            .delete(Delete::new(&TABLE, Key::new("cd", "1")).when(Condition::eq("state", "closed")))
            .await,
    );
    let deleted = store
        .delete(Delete::new(&TABLE, Key::new("cd", "1")).when(Condition::eq("state", "open")))
        .await
        .unwrap();
    assert_eq!(
        deleted.and_then(|i| i.get("state").cloned()),
        Some(s("open"))
    );
    assert!(
        store
            .get(&TABLE, Key::new("cd", "1"))
            .await
            .unwrap()
            .is_none()
    );
    let nothing = store
        .delete(Delete::new(&TABLE, Key::new("cd", "1")))
        .await
        .unwrap();
    assert!(nothing.is_none());
}

async fn seed_range(store: &Store, partition: &str) {
    let ops = ["a", "b", "ba", "bb", "c", "d"]
        .iter()
        .map(|sk| BatchOp::Put {
            table: &TABLE,
            item: item(partition, sk, &[]),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    // Another partition that must never show up.
    store
        .put(Put::new(&TABLE, item(&format!("{partition}x"), "b", &[])))
        .await
        .unwrap();
}

/// Every sort-key condition, in both directions.
pub async fn key_range_queries(store: Store) {
    seed_range(&store, "kr").await;
    let run = |sort: Option<SortKeyCondition>, forward: bool| {
        let store = Arc::clone(&store);
        async move {
            let mut query = Query::new(&TABLE, "kr");
            query.sort = sort;
            query.forward = forward;
            sks(&store.query(query).await.unwrap().items)
        }
    };
    use SortKeyCondition as K;
    assert_eq!(run(None, true).await, ["a", "b", "ba", "bb", "c", "d"]);
    assert_eq!(run(None, false).await, ["d", "c", "bb", "ba", "b", "a"]);
    assert_eq!(run(Some(K::Eq("ba".into())), true).await, ["ba"]);
    assert_eq!(run(Some(K::Lt("b".into())), true).await, ["a"]);
    assert_eq!(run(Some(K::Le("b".into())), true).await, ["a", "b"]);
    assert_eq!(
        run(Some(K::Gt("b".into())), true).await,
        ["ba", "bb", "c", "d"]
    );
    assert_eq!(run(Some(K::Ge("bb".into())), false).await, ["d", "c", "bb"]);
    assert_eq!(
        run(Some(K::Between("b".into(), "c".into())), true).await,
        ["b", "ba", "bb", "c"]
    );
    assert_eq!(
        run(Some(K::BeginsWith("b".into())), false).await,
        ["bb", "ba", "b"]
    );
    assert!(run(Some(K::BeginsWith("z".into())), true).await.is_empty());
}

/// Pages chain through cursors in both directions, without repeats or gaps.
pub async fn cursors_page_both_directions(store: Store) {
    let ops = (0..23)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item("pg", &format!("{i:03}"), &[("i", n(i))]),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    for forward in [true, false] {
        let mut seen = Vec::new();
        let mut cursor: Option<Cursor> = None;
        let mut pages = 0;
        loop {
            let mut query = Query::new(&TABLE, "pg").limit(5).after(cursor.take());
            query.forward = forward;
            let page = store.query(query).await.unwrap();
            assert!(page.items.len() <= 5);
            seen.extend(sks(&page.items));
            pages += 1;
            // A cursor survives a trip through a client as text.
            cursor = page.cursor.map(|c| Cursor::parse(c.as_str()).unwrap());
            if cursor.is_none() {
                break;
            }
        }
        let mut expected: Vec<String> = (0..23).map(|i| format!("{i:03}")).collect();
        if !forward {
            expected.reverse();
        }
        assert_eq!(seen, expected, "forward={forward}");
        assert!(pages >= 5);
    }
    assert!(matches!(
        Cursor::parse("not a cursor!"),
        Err(StoreError::BadCursor)
    ));
    // A reader that stops within a page resumes after the last item it took.
    for forward in [true, false] {
        let mut query = Query::new(&TABLE, "pg")
            .limit(3)
            .after(Some(Cursor::after_key(&Key::new("pg", "010"))));
        query.forward = forward;
        let page = store.query(query).await.unwrap();
        let expected = if forward {
            ["011", "012", "013"]
        } else {
            ["009", "008", "007"]
        };
        assert_eq!(sks(&page.items), expected, "forward={forward}");
    }
}

/// Sort keys alone come back as a query's items would, page by page in
/// both directions, with a sort-key condition, a filter or an index.
pub async fn sort_key_queries_read_like_queries(store: Store) {
    seed_range(&store, "sq").await;
    store
        .put(Put::new(
            &TABLE,
            item("sq", "e\0f", &[("owner", s("sq-owner")), ("rank", s("1"))]),
        ))
        .await
        .unwrap();
    for forward in [true, false] {
        for sort in [None, Some(SortKeyCondition::BeginsWith("b".into()))] {
            let mut query = Query::new(&TABLE, "sq");
            query.sort = sort;
            query.forward = forward;
            let expected = sks(&store.query(query.clone()).await.unwrap().items);
            let seen = sort_keys_in_pages(&store, query, 2).await;
            assert_eq!(seen, expected, "forward={forward}");
        }
    }
    let filtered = Query::new(&TABLE, "sq").filter(Condition::exists("owner"));
    assert_eq!(
        store.query_sort_keys(filtered).await.unwrap().keys,
        ["e\0f"]
    );
    store
        .put(Put::new(
            &TABLE,
            item("sq2", "x", &[("owner", s("sq-owner")), ("rank", s("0"))]),
        ))
        .await
        .unwrap();
    // Index sort keys, a page at a time through cursors.
    let indexed = Query::new(&TABLE, "sq-owner").index("by_owner");
    assert_eq!(sort_keys_in_pages(&store, indexed, 1).await, ["0", "1"]);
}

/// Every sort key of a query, read `limit` at a time, each cursor taken
/// through a client as text.
async fn sort_keys_in_pages(store: &Store, query: Query, limit: u32) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store
            .query_sort_keys(query.clone().limit(limit).after(cursor.take()))
            .await
            .unwrap();
        assert!(page.keys.len() <= limit as usize);
        seen.extend(page.keys);
        cursor = page.cursor.map(|c| Cursor::parse(c.as_str()).unwrap());
        if cursor.is_none() {
            return seen;
        }
    }
}

/// A filter drops items after the limit is applied, as DynamoDB does.
pub async fn filters_apply_after_limit(store: Store) {
    let ops = (0..10)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item(
                "fl",
                &format!("{i}"),
                &[("even", AttributeValue::Bool(i % 2 == 0))],
            ),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    let page = store
        .query(
            Query::new(&TABLE, "fl")
                .limit(4)
                .filter(Condition::eq("even", true)),
        )
        .await
        .unwrap();
    assert_eq!(sks(&page.items), ["0", "2"]);
    assert!(page.cursor.is_some());
    let all = store
        .query(Query::new(&TABLE, "fl").filter(Condition::eq("even", false)))
        .await
        .unwrap();
    assert_eq!(sks(&all.items), ["1", "3", "5", "7", "9"]);
}

/// A projection returns only the named attributes; the filter still sees all
/// of them and cursors still page.
pub async fn projections_return_only_named_attributes(store: Store) {
    let ops = (0..9)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item(
                "pj",
                &format!("{i}"),
                &[
                    ("odd", AttributeValue::Bool(i % 2 == 1)),
                    ("big", s(&"x".repeat(200))),
                    ("n", n(i)),
                ],
            ),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(
                Query::new(&TABLE, "pj")
                    .filter(Condition::eq("odd", true))
                    .project(["sk", "n"])
                    .limit(3)
                    .after(cursor.take()),
            )
            .await
            .unwrap();
        for item in &page.items {
            let mut names: Vec<&String> = item.keys().collect();
            names.sort();
            assert_eq!(names, ["n", "sk"]);
        }
        seen.extend(sks(&page.items));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["1", "3", "5", "7"]);
}

/// A query projected to key attributes only (the embedded store answers it
/// from its entry keys) returns what the same query returns whole, those
/// attributes only, page by page through cursors, on the table and an index.
pub async fn key_projections_read_like_queries(store: Store) {
    let ops = (0..7)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item(
                "kp",
                &format!("{i}"),
                &[("owner", s("kp-owner")), ("rank", s(&format!("{}", 9 - i)))],
            ),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    let cases = [
        (Query::new(&TABLE, "kp"), vec!["pk", "sk"]),
        (Query::new(&TABLE, "kp"), vec!["sk"]),
        (
            Query::new(&TABLE, "kp-owner").index("by_owner"),
            vec!["pk", "sk", "rank"],
        ),
        (
            Query::new(&TABLE, "kp-owner").index("by_owner"),
            vec!["owner", "sk"],
        ),
    ];
    for (query, names) in cases {
        for forward in [true, false] {
            let mut query = query.clone();
            query.forward = forward;
            let whole = store.query(query.clone()).await.unwrap().items;
            let expected: Vec<Item> = whole
                .iter()
                .map(|item| {
                    let kept: std::collections::HashMap<String, AttributeValue> = item
                        .iter()
                        .filter(|(name, _)| names.contains(&name.as_str()))
                        .map(|(name, value)| (name.clone(), value.clone()))
                        .collect();
                    Item::from(kept)
                })
                .collect();
            let mut seen: Vec<Item> = Vec::new();
            let mut cursor: Option<Cursor> = None;
            loop {
                let page = store
                    .query(
                        query
                            .clone()
                            .project(names.iter().copied())
                            .limit(3)
                            .after(cursor.take()),
                    )
                    .await
                    .unwrap();
                assert!(page.items.len() <= 3);
                seen.extend(page.items);
                cursor = page.cursor.map(|c| Cursor::parse(c.as_str()).unwrap());
                if cursor.is_none() {
                    break;
                }
            }
            assert_eq!(seen, expected, "{names:?} forward={forward}");
        }
    }
}

/// Index queries see only items with both index keys and follow updates and deletes.
pub async fn index_queries_follow_writes(store: Store) {
    let owned = |sk: &str, owner: &str, rank: &str| {
        item("ix", sk, &[("owner", s(owner)), ("rank", s(rank))])
    };
    store
        .put(Put::new(&TABLE, owned("1", "asha", "03")))
        .await
        .unwrap();
    store
        .put(Put::new(&TABLE, owned("2", "asha", "01")))
        .await
        .unwrap();
    store
        .put(Put::new(&TABLE, owned("3", "ravi", "02")))
        .await
        .unwrap();
    store
        .put(Put::new(&TABLE, item("ix", "4", &[("owner", s("asha"))])))
        .await
        .unwrap();

    let by_owner = |owner: &'static str| {
        let store = Arc::clone(&store);
        async move {
            sks(&store
                .query(Query::new(&TABLE, owner).index("by_owner"))
                .await
                .unwrap()
                .items)
        }
    };
    assert_eq!(by_owner("asha").await, ["2", "1"]);

    // Moving an item between index partitions.
    store
        .update(UpdateItem::new(
            &TABLE,
            Key::new("ix", "2"),
            Update::new().set("owner", "ravi"),
        ))
        .await
        .unwrap();
    assert_eq!(by_owner("asha").await, ["1"]);
    assert_eq!(by_owner("ravi").await, ["2", "3"]);

    // Removing an index key takes the item out of the index.
    store
        .update(UpdateItem::new(
            &TABLE,
            Key::new("ix", "3"),
            Update::new().remove("rank"),
        ))
        .await
        .unwrap();
    assert_eq!(by_owner("ravi").await, ["2"]);
    store
        .delete(Delete::new(&TABLE, Key::new("ix", "2")))
        .await
        .unwrap();
    assert!(by_owner("ravi").await.is_empty());

    // Paging an index, backwards, with a sort-key range.
    let ops = (0..12)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item(
                "ixp",
                &format!("{i:02}"),
                &[("owner", s("meera")), ("rank", s("same"))],
            ),
        })
        .collect();
    store.batch_write(ops).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(
                Query::new(&TABLE, "meera")
                    .index("by_owner")
                    .sort(SortKeyCondition::Eq("same".into()))
                    .backward()
                    .limit(5)
                    .after(cursor.take()),
            )
            .await
            .unwrap();
        seen.extend(sks(&page.items));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    let expected: BTreeSet<String> = (0..12).map(|i| format!("{i:02}")).collect();
    assert_eq!(seen.len(), 12, "no repeats: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
}

/// A narrow index returns its keys and projected attributes only, and
/// follows changes to projected attributes.
pub async fn include_indexes_hold_projected_attributes(store: Store) {
    let painted = |sk: &str, shade: &str, size: i64| {
        item(
            "ic",
            sk,
            &[
                ("colour", s("teal")),
                ("shade", s(shade)),
                ("size", n(size)),
                ("secret", s("unprojected")),
            ],
        )
    };
    store
        .put(Put::new(&TABLE, painted("1", "b", 10)))
        .await
        .unwrap();
    store
        .put(Put::new(&TABLE, painted("2", "a", 20)))
        .await
        .unwrap();
    let read = |filter: Option<Condition>| {
        let store = Arc::clone(&store);
        async move {
            let mut query = Query::new(&TABLE, "teal").index("by_colour");
            query.filter = filter;
            store.query(query).await.unwrap().items
        }
    };
    let items = read(None).await;
    assert_eq!(sks(&items), ["2", "1"]);
    let mut names: Vec<&String> = items[0].keys().collect();
    names.sort();
    assert_eq!(names, ["colour", "pk", "shade", "size", "sk"]);
    store
        .update(UpdateItem::new(
            &TABLE,
            Key::new("ic", "1"),
            Update::new().set("size", 99),
        ))
        .await
        .unwrap();
    let big = read(Some(Condition::gt("size", 50))).await;
    assert_eq!(sks(&big), ["1"]);
    assert_eq!(big[0].get("size"), Some(&n(99)));
}

/// All or nothing: one failed condition rolls every operation back.
pub async fn transactions_are_all_or_nothing(store: Store) {
    store
        .put(Put::new(
            &TABLE,
            item("tx", "account", &[("balance", n(100))]),
        ))
        .await
        .unwrap();
    store
        .put(Put::new(&TABLE, item("tx", "gone", &[])))
        .await
        .unwrap();
    store
        .put(Put::new(
            &TABLE,
            item("tx", "guard", &[("open", AttributeValue::Bool(true))]),
        ))
        .await
        .unwrap();

    let ops = |guard: i64| -> Vec<WriteOp> {
        vec![
            UpdateItem::new(
                &TABLE,
                Key::new("tx", "account"),
                Update::new().add("balance", -30),
            )
            .when(Condition::ge("balance", guard))
            .into(),
            Put::new(&TABLE, item("tx", "entry", &[("amount", n(30))]))
                .if_absent()
                .into(),
            Delete::new(&TABLE, Key::new("tx", "gone")).into(),
            ConditionCheck::new(&TABLE, Key::new("tx", "guard"), Condition::eq("open", true))
                .into(),
        ]
    };
    let failed = expect_conflict(store.transact_write(ops(1000)).await);
    assert_eq!(failed, vec![0]);
    let account = store
        .get(&TABLE, Key::new("tx", "account"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.get("balance"), Some(&n(100)));
    assert!(
        store
            .get(&TABLE, Key::new("tx", "entry"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get(&TABLE, Key::new("tx", "gone"))
            .await
            .unwrap()
            .is_some()
    );

    store.transact_write(ops(30)).await.unwrap();
    let account = store
        .get(&TABLE, Key::new("tx", "account"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.get("balance"), Some(&n(70)));
    assert!(
        store
            .get(&TABLE, Key::new("tx", "entry"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get(&TABLE, Key::new("tx", "gone"))
            .await
            .unwrap()
            .is_none()
    );

    // Replaying it fails on the second operation (the entry exists now).
    let failed = expect_conflict(store.transact_write(ops(0)).await);
    assert_eq!(failed, vec![1]);

    // Two operations on one item are refused up front.
    let twice = vec![
        Put::new(&TABLE, item("tx", "x", &[])).into(),
        Delete::new(&TABLE, Key::new("tx", "x")).into(),
    ];
    assert!(matches!(
        store.transact_write(twice).await,
        Err(StoreError::Invalid(_))
    ));
}

/// Many transactions at once, some of them refused: each one stands alone
/// (an adapter that commits concurrent writes together must not let a
/// refused one take the others down, or leave part of itself behind).
pub async fn concurrent_transactions_stand_alone(store: Store) {
    store
        .put(Put::new(&TABLE, item("ct", "guard", &[("open", n(0))])))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for writer in 0..48i64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let refused = writer % 3 == 0;
            let mut ops: Vec<WriteOp> = vec![
                Put::new(
                    &TABLE,
                    item("ct", &format!("a{writer}"), &[("writer", n(writer))]),
                )
                .into(),
                UpdateItem::new(
                    &TABLE,
                    Key::new("ct", "total"),
                    Update::new().add("writes", 1),
                )
                .into(),
            ];
            if refused {
                ops.push(
                    ConditionCheck::new(&TABLE, Key::new("ct", "guard"), Condition::eq("open", 1))
                        .into(),
                );
            }
            (writer, refused, store.transact_write(ops).await)
        }));
    }
    let mut committed = 0;
    for task in tasks {
        let (writer, refused, result) = task.await.unwrap();
        let written = store
            .get(&TABLE, Key::new("ct", format!("a{writer}")))
            .await
            .unwrap();
        if refused {
            assert_eq!(expect_conflict(result), vec![2]);
            assert!(
                written.is_none(),
                "refused transaction {writer} left its put"
            );
        } else {
            result.unwrap();
            assert!(written.is_some(), "transaction {writer} lost its put");
            committed += 1;
        }
    }
    let total = store
        .get(&TABLE, Key::new("ct", "total"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(total.get("writes"), Some(&n(committed)));
}

/// Batches of any size, mixing puts and deletes, with repeated keys.
pub async fn batch_writes_of_any_size(store: Store) {
    let mut ops: Vec<BatchOp> = (0..130)
        .map(|i| BatchOp::Put {
            table: &TABLE,
            item: item("bw", &format!("{i:04}"), &[("i", n(i))]),
        })
        .collect();
    ops.extend((0..40).map(|i| BatchOp::Delete {
        table: &TABLE,
        key: Key::new("bw", format!("{:04}", i * 2)),
    }));
    ops.push(BatchOp::Put {
        table: &TABLE,
        item: item("bw", "0001", &[("i", n(-1))]),
    });
    store.batch_write(ops).await.unwrap();
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(Query::new(&TABLE, "bw").after(cursor.take()))
            .await
            .unwrap();
        all.extend(page.items);
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(all.len(), 90);
    let one = store
        .get(&TABLE, Key::new("bw", "0001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.get("i"), Some(&n(-1)));
    assert!(
        store
            .get(&TABLE, Key::new("bw", "0000"))
            .await
            .unwrap()
            .is_none()
    );
}

/// The TTL attribute is an ordinary stored number.
pub async fn ttl_attribute_is_stored(store: Store) {
    store
        .put(Put::new(
            &TABLE,
            item("ttl", "1", &[("expires_at", n(4_102_444_800))]),
        ))
        .await
        .unwrap();
    let read = store
        .get(&TABLE, Key::new("ttl", "1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.get("expires_at"), Some(&n(4_102_444_800)));
}

/// Malformed requests are refused, not half-applied.
pub async fn invalid_requests_are_refused(store: Store) {
    let keyless = Item::from(HashMap::from([("pk".to_owned(), s("only"))]));
    assert!(matches!(
        store.put(Put::new(&TABLE, keyless)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .update(UpdateItem::new(
                &TABLE,
                Key::new("iv", "1"),
                Update::new().set("sk", "x")
            ))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .query(Query::new(&TABLE, "iv").index("no_such_index"))
            .await,
        Err(StoreError::Invalid(_))
    ));
    let too_many: Vec<WriteOp> = (0..101)
        .map(|i| Put::new(&TABLE, item("iv", &i.to_string(), &[])).into())
        .collect();
    assert!(matches!(
        store.transact_write(too_many).await,
        Err(StoreError::Invalid(_))
    ));
}

/// Runs a list of cases against stores built by `make`; used by the tests crate.
#[macro_export]
macro_rules! conformance_cases {
    ($make:expr) => {
        $crate::conformance_cases!(@cases $make;
            put_get_round_trip,
            get_many_reads_any_number,
            stored_items_read_like_decoded_ones,
            conditional_put_conflicts,
            missing_attributes_compare_like_dynamodb,
            updates_and_counters,
            concurrent_conditional_writes_have_one_winner,
            conditional_delete,
            key_range_queries,
            cursors_page_both_directions,
            sort_key_queries_read_like_queries,
            filters_apply_after_limit,
            projections_return_only_named_attributes,
            key_projections_read_like_queries,
            index_queries_follow_writes,
            include_indexes_hold_projected_attributes,
            transactions_are_all_or_nothing,
            concurrent_transactions_stand_alone,
            batch_writes_of_any_size,
            ttl_attribute_is_stored,
            invalid_requests_are_refused,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(store) = $make.await {
                    $crate::conformance::$case(store).await;
                }
            }
        )*
    };
}
