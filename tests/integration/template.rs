//! `template.yaml` declares exactly the tables the code defines, and a
//! function for every crate under `functions/`, each with a sample event.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_norway::Value;
use soraaya_store::{PK, SK};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_norway::from_str(&text).expect("template.yaml parses")
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(name, resource)| (name.as_str().expect("resource name"), resource))
        .collect()
}

/// `!Sub "${AWS::StackName}-accounts"` → `accounts`.
fn logical_table_name(properties: &Value) -> String {
    let Value::Tagged(tagged) = &properties["TableName"] else {
        panic!("TableName must be !Sub \"${{AWS::StackName}}-<name>\"");
    };
    assert_eq!(tagged.tag.to_string(), "!Sub");
    tagged
        .value
        .as_str()
        .and_then(|s| s.strip_prefix("${AWS::StackName}-"))
        .expect("TableName is the stack name, a dash, and the logical name")
        .to_owned()
}

fn key_schema(value: &Value) -> Vec<(String, String)> {
    value
        .as_sequence()
        .expect("KeySchema")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn template_tables_match_the_code() {
    let template = template();
    let declared = resources_of_type(&template, "AWS::DynamoDB::Table");
    let mut seen = BTreeSet::new();
    for (resource, table) in &declared {
        let properties = &table["Properties"];
        let name = logical_table_name(properties);
        let def = soraaya_core::tables::ALL
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| {
                panic!("{resource} declares table {name}, which the code does not define")
            });
        seen.insert(name.clone());

        assert_eq!(
            properties["BillingMode"].as_str(),
            Some("PAY_PER_REQUEST"),
            "{name}"
        );
        assert_eq!(
            properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
            Some(true),
            "{name}: point-in-time recovery"
        );
        assert_eq!(
            key_schema(&properties["KeySchema"]),
            vec![
                (PK.to_owned(), "HASH".to_owned()),
                (SK.to_owned(), "RANGE".to_owned())
            ],
            "{name}: key schema"
        );
        let attributes: BTreeSet<(String, String)> = properties["AttributeDefinitions"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["AttributeName"].as_str().unwrap().to_owned(),
                    a["AttributeType"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: BTreeSet<(String, String)> = def
            .key_attributes()
            .into_iter()
            .map(|a| (a.to_owned(), "S".to_owned()))
            .collect();
        assert_eq!(attributes, expected, "{name}: attribute definitions");

        match def.ttl_attribute {
            Some(ttl) => {
                assert_eq!(
                    properties["TimeToLiveSpecification"]["AttributeName"].as_str(),
                    Some(ttl),
                    "{name}"
                );
                assert_eq!(
                    properties["TimeToLiveSpecification"]["Enabled"].as_bool(),
                    Some(true),
                    "{name}"
                );
            }
            None => assert!(
                properties.get("TimeToLiveSpecification").is_none(),
                "{name}: unexpected TTL"
            ),
        }

        let indexes = properties
            .get("GlobalSecondaryIndexes")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            indexes.len(),
            def.indexes.len(),
            "{name}: number of indexes"
        );
        for index in def.indexes {
            let declared = indexes
                .iter()
                .find(|i| i["IndexName"].as_str() == Some(index.name))
                .unwrap_or_else(|| panic!("{name}: index {} missing", index.name));
            assert_eq!(
                key_schema(&declared["KeySchema"]),
                vec![
                    (index.pk.to_owned(), "HASH".to_owned()),
                    (index.sk.to_owned(), "RANGE".to_owned())
                ],
                "{name}.{}: key schema",
                index.name
            );
            match index.projection {
                soraaya_store::Projection::All => {
                    assert_eq!(
                        declared["Projection"]["ProjectionType"].as_str(),
                        Some("ALL"),
                        "{name}.{}",
                        index.name
                    );
                }
                soraaya_store::Projection::KeysOnly => {
                    assert_eq!(
                        declared["Projection"]["ProjectionType"].as_str(),
                        Some("KEYS_ONLY"),
                        "{name}.{}",
                        index.name
                    );
                }
                soraaya_store::Projection::Include(attributes) => {
                    assert_eq!(
                        declared["Projection"]["ProjectionType"].as_str(),
                        Some("INCLUDE"),
                        "{name}.{}",
                        index.name
                    );
                    let declared: Vec<&str> = declared["Projection"]["NonKeyAttributes"]
                        .as_sequence()
                        .expect("NonKeyAttributes")
                        .iter()
                        .map(|a| a.as_str().unwrap())
                        .collect();
                    assert_eq!(
                        declared, attributes,
                        "{name}.{}: projected attributes",
                        index.name
                    );
                }
            }
        }
    }
    let defined: BTreeSet<String> = soraaya_core::tables::ALL
        .iter()
        .map(|t| t.name.to_owned())
        .collect();
    assert_eq!(seen, defined, "every table the code defines is declared");
}

#[test]
fn every_function_is_deployed_and_has_a_sample_event() {
    let template = template();
    let binaries: BTreeSet<String> = resources_of_type(&template, "AWS::Serverless::Function")
        .iter()
        .map(|(name, f)| {
            assert_eq!(
                f["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda"),
                "{name}"
            );
            assert!(
                f["Properties"].get("Policies").is_some(),
                "{name} has its own policy"
            );
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("Binary")
                .to_owned()
        })
        .collect();
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(binaries, crates, "template functions and functions/ crates");

    let events: Vec<String> = std::fs::read_dir(root().join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for function in &crates {
        let prefix = function.split('-').next().unwrap();
        assert!(
            events.iter().any(|e| e.starts_with(prefix)),
            "functions/{function} has no sample event in events/"
        );
        let tests = root().join("functions").join(function).join("tests");
        assert!(tests.is_dir(), "functions/{function} has no handler test");
        assert!(
            tests.join("deployed.rs").is_file(),
            "functions/{function} has no test that starts it with the template's environment"
        );
    }
}
