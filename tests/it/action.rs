//! Issue 35: the GitHub Action (action.yml) run the way a runner runs a composite action:
//! each step's `env` and `run` read from action.yml, its `${{ … }}` expressions evaluated from
//! the inputs and earlier steps' outputs, under `bash --noprofile --norc -eo pipefail`, with
//! GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH and RUNNER_TEMP pointing at temporary files;
//! against real local clusters. The release it installs is a folder laid out as a GitHub release
//! (file:// URL), and the SARIF it writes is validated by Microsoft's SARIF multitool and held
//! to GitHub code scanning's documented limits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder test.sh installs the npm and PyPI tools into (`PGPARITY_TOOLS`, default
/// target/tools).
pub fn tools() -> PathBuf {
    std::env::var_os("PGPARITY_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/tools"))
}

fn target_triple() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

/// A release folder as GitHub serves one: `download/<tag>/{pgparity-<target>.tar.gz,
/// SHA256SUMS}`, the tarball holding this build's binary. `tamper` changes the tarball after
/// its checksum was taken.
fn release(dir: &Path, tag: &str, tamper: bool) -> String {
    let t = target_triple();
    let stage = dir.join("stage").join(format!("pgparity-{t}"));
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_pgparity"), stage.join("pgparity")).unwrap();
    let assets = dir.join("releases/download").join(tag);
    std::fs::create_dir_all(&assets).unwrap();
    let tarball = format!("pgparity-{t}.tar.gz");
    let ok = Command::new("tar")
        .arg("-czf")
        .arg(assets.join(&tarball))
        .arg("-C")
        .arg(dir.join("stage"))
        .arg(format!("pgparity-{t}"))
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::write(assets.join("pgparity-0.1.0.deb"), b"another asset").unwrap();
    let sums = Command::new("sha256sum")
        .args([tarball.as_str(), "pgparity-0.1.0.deb"])
        .current_dir(&assets)
        .output()
        .unwrap();
    assert!(sums.status.success());
    std::fs::write(assets.join("SHA256SUMS"), sums.stdout).unwrap();
    if tamper {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(assets.join(&tarball))
            .unwrap();
        f.write_all(b"\0").unwrap();
    }
    format!("file://{}", dir.join("releases").display())
}

/// What one run of the action gave.
struct ActionRun {
    /// Per step id: exit code, stdout+stderr, outputs.
    steps: Vec<(String, i32, String, BTreeMap<String, String>)>,
    outputs: BTreeMap<String, String>,
    summary: String,
    path: String,
    /// RUNNER_TEMP and the runner's files: the outputs name files in it.
    _runner: tempfile::TempDir,
}

impl ActionRun {
    fn step(&self, id: &str) -> &(String, i32, String, BTreeMap<String, String>) {
        self.steps
            .iter()
            .find(|s| s.0 == id)
            .unwrap_or_else(|| panic!("step {id} did not run: {:?}", self.steps))
    }
}

/// `${{ inputs.x }}`, `${{ steps.a.outputs.b }}` and `${{ github.action_repository }}` (empty
/// here, as it is in some runners' composite steps); anything else fails the test, so action.yml
/// cannot use an expression this simulation does not know.
fn evaluate(
    text: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("}}").expect("unclosed expression") + at;
        let expr = rest[at + 3..end].trim();
        let value = if let Some(name) = expr.strip_prefix("inputs.") {
            inputs
                .get(name)
                .unwrap_or_else(|| {
                    panic!("action.yml uses input {name}, which it does not declare")
                })
                .clone()
        } else if let Some(path) = expr.strip_prefix("steps.") {
            let (id, output) = path.split_once(".outputs.").expect("steps.ID.outputs.NAME");
            steps
                .get(id)
                .and_then(|o| o.get(output))
                .cloned()
                .unwrap_or_default()
        } else if expr == "github.action_repository" {
            String::new()
        } else {
            panic!("expression the simulated runner does not know: {expr}");
        };
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// GITHUB_OUTPUT's lines: `name=value` and `name<<DELIMITER` … `DELIMITER`.
fn read_outputs(file: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((k, delim)) = line.split_once("<<") {
            let mut v = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                v.push(l);
            }
            out.insert(k.to_string(), v.join("\n"));
        } else if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

/// Runs action.yml's steps in `workspace` with `given` inputs and extra environment.
fn run_action(workspace: &Path, given: &[(&str, &str)], env: &[(&str, &str)]) -> ActionRun {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"));
    // Inputs: the given ones, else action.yml's defaults; a required one missing fails.
    let mut inputs = BTreeMap::new();
    for (name, spec) in doc["inputs"].as_hash().unwrap() {
        let name = name.as_str().unwrap().to_string();
        let value = given
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
            .or_else(|| spec["default"].as_str().map(str::to_string));
        match value {
            Some(v) => {
                inputs.insert(name, v);
            }
            None => assert!(
                spec["required"].as_bool() != Some(true),
                "input {name} is required and was not given"
            ),
        }
    }
    for (k, _) in given {
        assert!(inputs.contains_key(*k), "action.yml declares no input {k}");
    }
    let runner = tempfile::tempdir().unwrap();
    let summary = runner.path().join("summary.md");
    let path_file = runner.path().join("path");
    let env_file = runner.path().join("env");
    let runner_temp = runner.path().join("temp");
    std::fs::create_dir(&runner_temp).unwrap();
    let mut outputs_by_step: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut steps = Vec::new();
    for (i, step) in doc["runs"]["steps"].as_vec().unwrap().iter().enumerate() {
        let id = step["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or(format!("step{i}"));
        assert_eq!(
            step["shell"].as_str(),
            Some("bash"),
            "step {id}: a composite step names its shell"
        );
        let run = evaluate(
            step["run"].as_str().expect("a run step"),
            &inputs,
            &outputs_by_step,
        );
        let output_file = runner.path().join(format!("output-{id}"));
        let added_path = std::fs::read_to_string(&path_file).unwrap_or_default();
        let mut path: Vec<String> = added_path.lines().rev().map(str::to_string).collect();
        path.push(std::env::var("PATH").unwrap());
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &run])
            .current_dir(workspace)
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_PATH", &path_file)
            .env("GITHUB_ENV", &env_file)
            .env("RUNNER_TEMP", &runner_temp)
            .env("PATH", path.join(":"))
            .env_remove("PGPASSWORD")
            .env("NO_COLOR", "1");
        if let Some(h) = step["env"].as_hash() {
            for (k, v) in h {
                let v = match v {
                    Yaml::String(s) => s.clone(),
                    other => panic!("step {id}: env value {other:?}"),
                };
                cmd.env(k.as_str().unwrap(), evaluate(&v, &inputs, &outputs_by_step));
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        let outputs = read_outputs(&output_file);
        outputs_by_step.insert(id.clone(), outputs.clone());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        steps.push((id, code, text, outputs));
        if code != 0 {
            break;
        }
    }
    let mut outputs = BTreeMap::new();
    for (name, spec) in doc["outputs"].as_hash().unwrap() {
        let value = evaluate(spec["value"].as_str().unwrap(), &inputs, &outputs_by_step);
        outputs.insert(name.as_str().unwrap().to_string(), value);
    }
    ActionRun {
        steps,
        outputs,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        path: std::fs::read_to_string(&path_file).unwrap_or_default(),
        _runner: runner,
    }
}

/// Microsoft's SARIF multitool (npm @microsoft/sarif-multitool), as test.sh installs it.
fn multitool() -> PathBuf {
    // The platform binary itself: the npm wrapper passes its arguments through a shell.
    let p = tools().join("npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    assert!(
        p.exists(),
        "{} is missing: run scripts/test.sh, which installs it (npm install --prefix {} @microsoft/sarif-multitool)",
        p.display(),
        tools().join("npm").display()
    );
    p
}

/// The SARIF file validates (the schema, the multitool's SARIF rules and its GitHub ingestion
/// rules, "Gh": no error and no warning) and stays within
/// GitHub code scanning's limits on runs, results, rules, locations and tags.
pub fn assert_sarif_valid(path: &Path) -> serde_json::Value {
    let out = Command::new(multitool())
        .args(["validate", "--rule-kind", "Sarif;Gh"])
        .arg(path)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "sarif-multitool validate failed:\n{said}"
    );
    assert!(
        !said
            .lines()
            .any(|l| l.contains(": error ") || l.contains(": warning ")),
        "sarif-multitool found errors or warnings:\n{said}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert!(!runs.is_empty() && runs.len() <= 20, "runs per file");
    for run in runs {
        let results = run["results"].as_array().unwrap();
        assert!(
            results.len() <= 25_000,
            "results per run: {}",
            results.len()
        );
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert!(rules.len() <= 25_000, "rules per run");
        assert!(run["tool"]["extensions"]
            .as_array()
            .is_none_or(|e| e.len() <= 100));
        for rule in rules {
            assert!(rule["properties"]["tags"]
                .as_array()
                .is_none_or(|t| t.len() <= 20));
        }
        for r in results {
            let locations = r["locations"].as_array().unwrap();
            assert!(
                !locations.is_empty() && locations.len() <= 1_000,
                "locations per result"
            );
            let rule = r["ruleId"].as_str().unwrap();
            assert!(
                rules.iter().any(|x| x["id"] == rule),
                "result's rule {rule} is declared"
            );
        }
    }
    doc
}

#[test]
fn the_action_installs_the_release_checks_and_reports_as_a_runner_sees_it() {
    let c = pg17();
    let prod = fresh_db(c, "act_prod");
    let stage = fresh_db(c, "act_stage");
    c.execute(
        &prod,
        "CREATE TABLE \"Orders\" (id int PRIMARY KEY, note text, total numeric);
         CREATE INDEX orders_total ON \"Orders\" (total);
         CREATE TABLE audit (id int);
         INSERT INTO \"Orders\" SELECT g, 'n' || g, g FROM generate_series(1, 500) g;
         ANALYZE",
    )
    .unwrap();
    c.execute(
        &stage,
        "CREATE TABLE \"Orders\" (id int PRIMARY KEY, note varchar(20), total numeric);
         INSERT INTO \"Orders\" SELECT g, 'n', g FROM generate_series(1, 5) g;
         ANALYZE",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let releases = release(dir.path(), "v0.1.0", false);
    let workspace = dir.path().join("workspace");
    std::fs::create_dir_all(workspace.join("ci")).unwrap();
    std::fs::write(workspace.join("ci/parity policy.toml"), "accept = []\n").unwrap();
    let (left, right) = (c.url(&stage), c.url(&prod));
    let run = run_action(
        &workspace,
        &[
            ("left", &left),
            ("right", &right),
            ("policy", "ci/parity policy.toml"),
            ("fail-on", "medium"),
            ("format", "junit"),
            ("version", "v0.1.0"),
        ],
        &[("PGPARITY_RELEASE_URL", &releases)],
    );
    let install = run.step("install");
    assert_eq!(install.1, 0, "{}", install.2);
    assert!(install.2.contains("pgparity 0.1.0"), "{}", install.2);
    let installed = &install.3["path"];
    assert!(installed.ends_with("/bin/pgparity") && Path::new(installed).exists());
    assert!(
        run.path.contains(installed.trim_end_matches("/pgparity")),
        "{}",
        run.path
    );
    let check = run.step("check");
    // Findings at or above medium: the step fails with pgparity's exit code, outputs set.
    assert_eq!(check.1, 1, "{}", check.2);
    assert_eq!(run.outputs["exit-code"], "1");
    let report_json = Path::new(&run.outputs["sarif"]).with_file_name("report.json");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_json).unwrap()).unwrap();
    let findings = j["findings"].as_array().unwrap();
    let open: Vec<&serde_json::Value> = findings.iter().filter(|f| f["status"] == "open").collect();
    assert!(open.len() >= 3, "{j}");
    assert_eq!(run.outputs["open-findings"], open.len().to_string());
    // Annotations: one ::error per failing finding (at most 10), with its id.
    let failing = j["counts"]["failing"].as_u64().unwrap() as usize;
    assert!(failing >= 1);
    let errors: Vec<&str> = check
        .2
        .lines()
        .filter(|l| l.starts_with("::error title=pgparity "))
        .collect();
    assert_eq!(errors.len(), failing.min(10), "{}", check.2);
    for line in &errors {
        let id = line
            .rsplit("[finding ")
            .next()
            .unwrap()
            .trim_end_matches(']');
        assert!(findings.iter().any(|f| f["id"] == id), "{line}");
    }
    assert!(errors.iter().any(|l| l.contains("Orders")), "{errors:?}");
    // The job summary is the Markdown report.
    assert!(run.summary.contains("pgparity"), "{}", run.summary);
    for f in &open {
        let object = f["object"].as_str().unwrap();
        assert!(
            run.summary.contains(object),
            "summary lacks {object}:\n{}",
            run.summary
        );
    }
    // The report in the format asked for, and the HTML one.
    assert!(run.outputs["report"].ends_with("report.xml"));
    assert!(std::fs::read_to_string(&run.outputs["report"])
        .unwrap()
        .contains("<testsuites"));
    assert!(std::fs::read_to_string(&run.outputs["report-html"])
        .unwrap()
        .starts_with("<!doctype html>"));
    // SARIF: valid, within GitHub's limits, one result per finding, each located at the
    // policy file (relative to the workspace, encoded).
    let sarif = assert_sarif_valid(Path::new(&run.outputs["sarif"]));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for r in results {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "ci/parity%20policy.toml"
        );
        let id = r["partialFingerprints"]["pgparityFindingId"]
            .as_str()
            .unwrap();
        assert!(findings.iter().any(|f| f["id"] == id));
    }
}

#[test]
fn a_release_that_fails_its_checksum_is_not_installed_and_an_unreadable_side_fails_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let releases = release(dir.path(), "v0.1.0", true);
    let workspace = dir.path().join("workspace");
    std::fs::create_dir_all(&workspace).unwrap();
    let run = run_action(
        &workspace,
        &[("left", "x"), ("right", "y"), ("version", "0.1.0")],
        &[("PGPARITY_RELEASE_URL", &releases)],
    );
    let install = run.step("install");
    assert_eq!(install.1, 2, "{}", install.2);
    assert!(
        install
            .2
            .contains("::error title=pgparity action::checksum mismatch: pgparity-"),
        "{}",
        install.2
    );
    assert!(!install.3.contains_key("path"));
    assert!(run.steps.len() == 1, "no step after a failed install");
    // A release that does not exist: said with the version.
    let run = run_action(
        &workspace,
        &[("left", "x"), ("right", "y"), ("version", "v9.9.9")],
        &[("PGPARITY_RELEASE_URL", &releases)],
    );
    let install = run.step("install");
    assert_eq!(install.1, 2);
    assert!(
        install.2.contains("is 'v9.9.9' a pgparity release"),
        "{}",
        install.2
    );
    // A side that cannot be read: pgparity's one-line error, exit-code 2, the step fails.
    let good = release(&dir.path().join("good"), "v0.1.0", false);
    let run = run_action(
        &workspace,
        &[
            (
                "left",
                "postgresql://nobody@127.0.0.1:1/x?connect_timeout=2",
            ),
            (
                "right",
                "postgresql://nobody@127.0.0.1:1/y?connect_timeout=2",
            ),
            ("version", "v0.1.0"),
        ],
        &[("PGPARITY_RELEASE_URL", &good)],
    );
    let check = run.step("check");
    assert_eq!(check.1, 2, "{}", check.2);
    assert_eq!(check.3["exit-code"], "2");
    assert!(check.2.contains("without a report"), "{}", check.2);
    assert!(check.2.contains("127.0.0.1:1"), "{}", check.2);
}

/// `--also` takes FORMAT=FILE: a format it does not know, or no file, is a usage error (exit
/// 2) that names what was wrong, and nothing is written.
#[test]
fn also_with_an_unknown_format_or_no_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.sarif");
    for (value, said) in [
        (
            format!("yaml={}", out.display()),
            "'yaml' is not a report format: one of text, json",
        ),
        ("sarif=".to_string(), "names no file"),
        ("sarif".to_string(), "is not FORMAT=FILE"),
    ] {
        let o = pgp("diff")
            .args(["a.json", "b.json", "--also", &value])
            .run()
            .code(2);
        assert!(o.stderr.contains(said), "{value}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"));
    }
    assert!(!out.exists());
}
