//! The crate graph, checked: dependencies point one way (domain ← store and
//! core ← services ← http ← api ← functions and tools), no Lambda function
//! links the local-only crate, and no library crate grows past what one
//! person reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Each workspace crate's layer: a crate may depend only on crates of lower layers.
const LAYERS: &[(&str, u8)] = &[
    ("soraaya-domain", 0),
    ("soraaya-store", 1),
    ("soraaya-core", 2),
    ("soraaya-accounts", 3),
    ("soraaya-emulator", 3),
    ("soraaya-aws", 3),
    ("soraaya-counters", 3),
    ("soraaya-leads", 4),
    ("soraaya-analytics", 4),
    ("soraaya-campaigns", 5),
    ("soraaya-notifications", 5),
    ("soraaya-insights", 5),
    ("soraaya-calling", 6),
    ("soraaya-jobs", 7),
    ("soraaya-dashboard", 7),
    ("soraaya-http", 8),
    ("soraaya-api", 9),
    ("soraaya-local", 10),
    ("soraaya-tests", 11),
];

/// Functions, the CLI and benchmarks sit on top of everything.
const TOP: u8 = 12;

/// What no deployed function may link, directly or not.
const LOCAL_ONLY: &[&str] = &[
    "soraaya-local",
    "soraaya-cli",
    "soraaya-tests",
    "soraaya-bench",
];

/// Most lines of Rust in one library crate.
const MAX_LIBRARY_LINES: usize = 6_000;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata answers JSON")
}

struct Crate {
    manifest: PathBuf,
    /// Workspace crates it depends on for building or running (not for its tests).
    depends_on: BTreeSet<String>,
}

fn workspace_crates() -> BTreeMap<String, Crate> {
    let metadata = metadata();
    let packages = metadata["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    packages
        .iter()
        .map(|package| {
            let depends_on = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dep| dep["kind"].as_str() != Some("dev"))
                .filter_map(|dep| dep["name"].as_str())
                .filter(|name| names.contains(*name))
                .map(str::to_owned)
                .collect();
            let name = package["name"].as_str().expect("name").to_owned();
            let manifest = PathBuf::from(package["manifest_path"].as_str().expect("manifest"));
            (
                name,
                Crate {
                    manifest,
                    depends_on,
                },
            )
        })
        .collect()
}

fn layer(name: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(crate_name, _)| *crate_name == name)
        .map_or(TOP, |(_, layer)| *layer)
}

fn is_function(krate: &Crate) -> bool {
    krate
        .manifest
        .parent()
        .and_then(Path::parent)
        .is_some_and(|dir| dir.ends_with("functions"))
}

#[test]
fn dependencies_point_one_way() {
    let crates = workspace_crates();
    let mut wrong = Vec::new();
    for (name, krate) in &crates {
        for dependency in &krate.depends_on {
            if layer(dependency) >= layer(name) {
                wrong.push(format!(
                    "{name} (layer {}) depends on {dependency} (layer {})",
                    layer(name),
                    layer(dependency)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "forbidden edges:\n{}", wrong.join("\n"));
    for (name, _) in LAYERS {
        assert!(crates.contains_key(*name), "{name} is not in the workspace");
    }
}

#[test]
fn no_function_links_local_only_code() {
    let crates = workspace_crates();
    let functions: Vec<&String> = crates
        .iter()
        .filter(|(_, krate)| is_function(krate))
        .map(|(name, _)| name)
        .collect();
    assert!(functions.len() >= 7, "functions found: {functions:?}");
    for function in functions {
        let mut reached = BTreeSet::new();
        let mut pending = vec![function.clone()];
        while let Some(next) = pending.pop() {
            for dependency in &crates[&next].depends_on {
                if reached.insert(dependency.clone()) {
                    pending.push(dependency.clone());
                }
            }
        }
        for local in LOCAL_ONLY {
            assert!(
                !reached.contains(*local),
                "{function} links {local}: {reached:?}"
            );
        }
    }
    // As `cargo tree` shows it, test dependencies included.
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-p", "auth-api", "--prefix", "none", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && tree.contains("soraaya-api"),
        "{tree}"
    );
    for local in LOCAL_ONLY {
        assert!(
            !tree.contains(local),
            "cargo tree -p auth-api shows {local}"
        );
    }
}

/// Every Rust file under a directory.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn rust_lines(dir: &Path) -> usize {
    rust_files(dir)
        .iter()
        .map(|path| std::fs::read_to_string(path).map_or(0, |text| text.lines().count()))
        .sum()
}

#[test]
fn every_module_opens_with_what_it_is_for() {
    let root = workspace_root();
    let missing: Vec<String> = ["shared", "functions", "infra", "tests"]
        .iter()
        .flat_map(|dir| rust_files(&root.join(dir)))
        .filter(|path| std::fs::read_to_string(path).is_ok_and(|text| !text.starts_with("//!")))
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "these modules lack their one-line `//!` header: {missing:?}"
    );
}

#[test]
fn library_crates_stay_readable() {
    for (name, krate) in workspace_crates() {
        if layer(&name) >= 9 {
            continue;
        }
        let src = krate.manifest.parent().expect("crate dir").join("src");
        let lines = rust_lines(&src);
        assert!(
            lines <= MAX_LIBRARY_LINES,
            "{name} has {lines} lines of Rust; split it by domain"
        );
    }
}
