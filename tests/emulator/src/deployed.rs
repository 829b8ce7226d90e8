//! A function's environment exactly as `template.yaml` gives it on Lambda:
//! the global variables and the function's own, with every parameter
//! resolved to a sample value, resources to emulator ones (the stack's
//! tables, a dial queue), plus what Lambda itself sets (the region) and the
//! emulator's endpoint. Each function's test starts the function with it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_norway::Value;
use soraaya_core::config::ConfigError;
use soraaya_store::{ItemStore, Key};

/// Sample values of the template's parameters (those without a default).
const SAMPLES: &[(&str, &str)] = &[
    ("JwtSecret", "a-sample-jwt-secret-of-forty-characters!"),
    ("VapiApiKey", "sample-vapi-private-key"),
    ("VapiPhoneNumberId", "pn-sample-mumbai"),
    ("VapiWebhookSecret", "sample-vapi-webhook-secret"),
    ("TwilioAuthToken", "sample-twilio-auth-token"),
    ("PublicUrl", "https://api.soraaya.example"),
    ("MailFrom", "no-reply@soraaya.example"),
    ("MailIdentity", "soraaya.example"),
];

fn template() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml");
    serde_norway::from_str(&text).expect("template.yaml parses")
}

/// What the template's variables refer to in this run.
struct Resolver<'a> {
    template: &'a Value,
    stack: String,
    /// Stand-ins on the emulator for the template's queues and buckets, by logical name.
    resources: BTreeMap<String, String>,
}

impl Resolver<'_> {
    fn parameter(&self, name: &str) -> Option<String> {
        let declared = self.template["Parameters"].get(name)?;
        if let Some((_, value)) = SAMPLES.iter().find(|(n, _)| *n == name) {
            return Some((*value).to_owned());
        }
        match declared.get("Default")? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            other => panic!("parameter {name} has a default of an unexpected kind: {other:?}"),
        }
    }

    fn reference(&self, name: &str) -> String {
        if name == "AWS::StackName" {
            return self.stack.clone();
        }
        if name == "AWS::Region" {
            return "us-east-1".to_owned();
        }
        if let Some(value) = self.parameter(name) {
            return value;
        }
        let resource = self.template["Resources"]
            .get(name)
            .unwrap_or_else(|| panic!("!Ref {name}: no such parameter or resource"));
        match self.resources.get(name) {
            Some(stand_in) => stand_in.clone(),
            None => panic!(
                "!Ref {name} ({:?}) has no stand-in in the tests",
                resource["Type"].as_str()
            ),
        }
    }

    fn sub(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("closing brace") + start;
            out.push_str(&self.reference(&rest[start + 2..end]));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn value(&self, value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Tagged(tagged) => {
                let inner = tagged
                    .value
                    .as_str()
                    .unwrap_or_else(|| panic!("{} with a value that is not text", tagged.tag));
                match tagged.tag.to_string().as_str() {
                    "!Ref" => self.reference(inner),
                    "!Sub" => self.sub(inner),
                    "!GetAtt" => format!("arn:aws:test:us-east-1:123456789012:{inner}"),
                    other => panic!("{other} is not resolved by the tests"),
                }
            }
            other => panic!("an environment value of an unexpected kind: {other:?}"),
        }
    }
}

fn variables(value: &Value) -> Vec<(String, &Value)> {
    value["Environment"]["Variables"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().expect("variable name").to_owned(), v))
                .collect()
        })
        .unwrap_or_default()
}

/// A deployment of the template on the emulator, for one function.
pub struct Deployed {
    /// The function's environment: the template's, Lambda's, the emulator's.
    pub vars: BTreeMap<String, String>,
    /// The stack's table prefix.
    pub stack: String,
}

/// The environment `template.yaml` gives the function whose binary is
/// `binary`, on a fresh stack on the emulator (its tables created), or
/// `None` when no emulator runs.
pub async fn deployed(binary: &str) -> Option<Deployed> {
    let endpoint = crate::emulator_endpoint()?;
    let template = template();
    let (_, function) = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .find(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
        .unwrap_or_else(|| panic!("no function with Binary {binary} in template.yaml"));
    let stack = format!("st{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let client = crate::emulator_client(&endpoint).await;
    soraaya_store::create_tables(&client, &format!("{stack}-"), soraaya_core::tables::ALL)
        .await
        .expect("the stack's tables");
    // Every queue and bucket of the template, made on the emulator.
    let mut resources = BTreeMap::new();
    for (name, resource) in template["Resources"].as_mapping().expect("Resources") {
        let name = name.as_str().expect("resource name").to_owned();
        match resource["Type"].as_str() {
            Some("AWS::SQS::Queue") => {
                let (_, url) = crate::emulator_queue().await.expect("an emulator queue");
                resources.insert(name, url);
            }
            Some("AWS::S3::Bucket") => {
                let bucket = crate::emulator_bucket().await.expect("an emulator bucket");
                resources.insert(name, bucket);
            }
            _ => {}
        }
    }
    let resolver = Resolver {
        template: &template,
        stack: stack.clone(),
        resources,
    };
    let mut vars = BTreeMap::new();
    for (name, value) in variables(&template["Globals"]["Function"])
        .into_iter()
        .chain(variables(&function["Properties"]))
    {
        vars.insert(name, resolver.value(value));
    }
    // What Lambda sets itself, and where the emulator is.
    vars.insert("AWS_REGION".into(), "us-east-1".into());
    vars.insert(
        "AWS_LAMBDA_FUNCTION_NAME".into(),
        format!("{stack}-{binary}"),
    );
    vars.insert("AWS_ENDPOINT_URL".into(), endpoint);
    Some(Deployed { vars, stack })
}

/// Starts the function whose binary is `binary` with `init`, with the
/// template's environment (it must start) and without `required` (it must
/// refuse, naming it); answers what `init` built, or `None` without an
/// emulator.
pub async fn starts_as_deployed<T, F, Fut>(binary: &str, required: &str, init: F) -> Option<T>
where
    F: Fn(BTreeMap<String, String>) -> Fut,
    Fut: Future<Output = Result<T, ConfigError>>,
{
    let deployed = deployed(binary).await?;
    let mut without = deployed.vars.clone();
    assert!(
        without.remove(required).is_some(),
        "the template gives {binary} no {required}"
    );
    match init(without).await {
        Err(ConfigError::Missing(name)) => assert_eq!(name, required),
        Err(other) => panic!("{binary} refused for another reason: {other}"),
        Ok(_) => panic!("{binary} started without {required}"),
    }
    match init(deployed.vars).await {
        Ok(built) => Some(built),
        Err(err) => panic!("{binary} does not start with the template's environment: {err}"),
    }
}

/// The store of a started function reaches the stack's tables.
pub async fn reaches_its_tables(store: &dyn ItemStore) {
    store
        .get(&soraaya_core::tables::ACCOUNTS, Key::new("PROBE", "PROBE"))
        .await
        .expect("the stack's tables are reachable");
}
