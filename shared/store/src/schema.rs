//! Table shapes: every table has a string partition key `pk` and sort key `sk`;
//! global secondary indexes have string keys of their own names.

/// Partition key attribute of every table.
pub const PK: &str = "pk";
/// Sort key attribute of every table.
pub const SK: &str = "sk";

/// One table: its logical name (the physical name adds a deployment prefix),
/// its global secondary indexes (all projecting every attribute) and its TTL attribute.
#[derive(Debug, PartialEq, Eq)]
pub struct TableDef {
    pub name: &'static str,
    pub indexes: &'static [IndexDef],
    pub ttl_attribute: Option<&'static str>,
}

/// A global secondary index with string partition and sort keys.
#[derive(Debug, PartialEq, Eq)]
pub struct IndexDef {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
    pub projection: Projection,
}

/// Which attributes an index holds besides the table and index keys.
#[derive(Debug, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute: index queries return whole items.
    All,
    /// Only these: index queries return them and the keys, and filters on the
    /// index may read only them.
    Include(&'static [&'static str]),
    /// The keys alone.
    KeysOnly,
}

impl IndexDef {
    /// The attributes of an item that this index holds (`None`: all of them).
    pub fn projected(&self) -> Option<Vec<String>> {
        let extra: &[&str] = match self.projection {
            Projection::All => return None,
            Projection::KeysOnly => &[],
            Projection::Include(attributes) => attributes,
        };
        let mut names: Vec<String> = [PK, SK, self.pk, self.sk]
            .iter()
            .chain(extra)
            .map(|n| (*n).to_owned())
            .collect();
        names.dedup();
        Some(names)
    }
}

impl TableDef {
    pub fn index(&self, name: &str) -> Option<&'static IndexDef> {
        self.indexes.iter().find(|index| index.name == name)
    }

    /// Whether `attribute` is a key of the table or of one of its indexes.
    pub fn is_key_attribute(&self, attribute: &str) -> bool {
        attribute == PK
            || attribute == SK
            || self
                .indexes
                .iter()
                .any(|index| index.pk == attribute || index.sk == attribute)
    }

    /// Every key attribute name, table keys first, without repeats.
    pub fn key_attributes(&self) -> Vec<&'static str> {
        let mut names = vec![PK, SK];
        for index in self.indexes {
            for name in [index.pk, index.sk] {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }
}
