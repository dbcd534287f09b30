//! `writ serve --demo` as a newcomer runs it: every example order, sent with
//! `writ submit` by its agency, gets the decision the rule book gives; the
//! emergency example is decided again once `writ review callback` records
//! the callback; the log verifies with `writ log verify`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::{database_args, repo, stderr, stdout, test_database, writ};

/// (example, signing agency, outcome, reason codes).
const EXAMPLES: &[(&str, &str, &str, &[&str])] = &[
    ("subpoena", "us-fbi-wfo", "approve", &[]),
    ("court-order", "us-fbi-wfo", "approve", &[]),
    ("search-warrant", "us-fbi-wfo", "approve", &[]),
    (
        "national-security-letter",
        "us-fbi-wfo",
        "review",
        &["indefinite_gag", "nsl_review"],
    ),
    (
        "emergency-request",
        "us-fbi-wfo",
        "review",
        &["emergency_unverified"],
    ),
    ("preservation-request", "us-fbi-wfo", "approve", &[]),
    ("epoc", "de-bka", "approve", &[]),
    ("epoc-pr", "fr-ofac", "approve", &[]),
    ("uk-overseas-order", "gb-homeoffice-ipu", "approve", &[]),
    (
        "technical-assistance",
        "gb-nca",
        "reject",
        &["hacking_refused"],
    ),
    (
        "refuse-category-not-authorized",
        "us-nypd",
        "reject",
        &["category_not_authorized"],
    ),
    (
        "refuse-not-judicially-authorized",
        "us-nypd",
        "reject",
        &["not_judicially_authorized"],
    ),
    (
        "refuse-order-expired",
        "us-fbi-wfo",
        "reject",
        &["order_expired"],
    ),
    (
        "refuse-agency-not-verified",
        "us-harbor-pd",
        "reject",
        &["agency_not_verified"],
    ),
    (
        "refuse-submitter-mismatch",
        "us-nypd",
        "reject",
        &["submitter_mismatch"],
    ),
    (
        "refuse-hacking",
        "us-fbi-wfo",
        "reject",
        &["hacking_refused"],
    ),
    (
        "refuse-not-particular",
        "us-nypd",
        "reject",
        &["not_particular"],
    ),
    (
        "refuse-instrument-not-available",
        "de-bka",
        "reject",
        &["instrument_not_available"],
    ),
    (
        "refuse-offence-threshold",
        "de-bka",
        "reject",
        &["offence_threshold"],
    ),
    (
        "refuse-us-person-under-uk-agreement",
        "gb-homeoffice-ipu",
        "reject",
        &["agreement_excludes_us_person"],
    ),
    (
        "refuse-outside-jurisdiction",
        "br-pf",
        "reject",
        &["outside_jurisdiction"],
    ),
    (
        "refuse-invalid-order",
        "us-fbi-wfo",
        "reject",
        &["invalid_order"],
    ),
    (
        "refuse-emergency-not-qualifying",
        "us-fbi-wfo",
        "reject",
        &["emergency_not_qualifying"],
    ),
    ("no-data", "us-fbi-wfo", "no_data", &["no_data_found"]),
];

pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    /// The case store when it is not SQLite in the data folder.
    pub(crate) database: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `writ serve --demo` on `data`, with the case store the run tests
/// ([`test_database`]).
pub(crate) fn start(data: &Path) -> Server {
    let database = test_database();
    let mut child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(database_args(&database))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    // Keep draining standard error so that the server never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        url,
        database,
    }
}

fn codes(decision: &serde_json::Value) -> Vec<String> {
    let mut c: Vec<String> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    c.sort();
    c.dedup();
    c
}

#[test]
fn demo_server_answers_every_example() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    if server.database.is_some() {
        // On PostgreSQL neither the case store nor the log's trusted store
        // is a file in the data folder.
        assert!(!dir.path().join("writ.db").exists());
    }
    let key = |agency: &str| {
        dir.path()
            .join("demo/agencies")
            .join(agency)
            .join("signing.key")
            .display()
            .to_string()
    };
    let users = std::fs::read_to_string(dir.path().join("demo/console-users.txt")).unwrap();
    let rita = users
        .lines()
        .find(|l| l.starts_with("reviewer "))
        .unwrap()
        .split_whitespace()
        .nth(4)
        .unwrap()
        .to_owned();
    for (example, agency, outcome, reasons) in EXAMPLES {
        let file = repo()
            .join("examples/orders")
            .join(format!("{example}.json"));
        let o = writ(&[
            "submit",
            "--server",
            &server.url,
            "--agency",
            agency,
            "--key",
            &key(agency),
            "--json",
            file.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{example}: {}", stderr(&o));
        let answer: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(
            answer["decision"]["outcome"], *outcome,
            "{example}: {answer}"
        );
        assert_eq!(codes(&answer["decision"]), *reasons, "{example}");
        if *example == "emergency-request" {
            let case = answer["case"].as_str().unwrap();
            let o = writ(&[
                "review",
                "--server",
                &server.url,
                "--token",
                &rita,
                "--json",
                "callback",
                case,
                "--number-source",
                "registry",
                "--verified",
                "true",
            ]);
            assert!(o.status.success(), "callback: {}", stderr(&o));
            let after: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
            assert_eq!(after["decision"]["outcome"], "approve", "{after}");
        }
    }

    // Exit codes: 2 for a file that is not JSON, 1 for an error answer.
    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "reference: x").unwrap();
    let fbi = key("us-fbi-wfo");
    let o = writ(&[
        "submit",
        "--server",
        &server.url,
        "--agency",
        "us-fbi-wfo",
        "--key",
        &fbi,
        not_json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let mut changed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/orders/subpoena.json")).unwrap(),
    )
    .unwrap();
    changed["categories"] = serde_json::json!(["subscriber"]);
    let changed_file = dir.path().join("changed.json");
    std::fs::write(&changed_file, changed.to_string()).unwrap();
    let o = writ(&[
        "submit",
        "--server",
        &server.url,
        "--agency",
        "us-fbi-wfo",
        "--key",
        &fbi,
        changed_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("409"), "{}", stderr(&o));
    // The wrong key for the agency: 401, exit 1.
    let o = writ(&[
        "submit",
        "--server",
        &server.url,
        "--agency",
        "us-fbi-wfo",
        "--key",
        &key("us-nypd"),
        repo()
            .join("examples/orders/subpoena.json")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    // The review queue lists the cases waiting for a person.
    let o = writ(&["review", "--server", &server.url, "--token", &rita, "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Waiting for review"), "{}", stdout(&o));

    // An admin revokes the reviewer's token beside the running server: it
    // stops working at once, and cannot be revoked twice.
    let revoke = [
        &["token", "revoke", "--data", dir.path().to_str().unwrap()][..],
        &database_args(&server.database),
        &[rita.as_str()],
    ]
    .concat();
    let o = writ(&revoke);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = writ(&["review", "--server", &server.url, "--token", &rita, "list"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = writ(&revoke);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // The log verifies against the running server.
    let vkey = ureq_get(&format!("{}/log/vkey", server.url));
    let o = writ(&[
        "log",
        "verify",
        "--url",
        &format!("{}/log", server.url),
        "--vkey",
        vkey.trim(),
    ]);
    let checkpoint = ureq::get(&format!("{}/log/checkpoint", server.url))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .map(|mut r| {
            (
                r.status(),
                r.body_mut().read_to_string().unwrap_or_default(),
                server.url.clone(),
            )
        });
    assert!(
        o.status.success(),
        "{}\n{}\n{:?}",
        stdout(&o),
        stderr(&o),
        checkpoint
    );
}

fn ureq_get(url: &str) -> String {
    let mut response = ureq::get(url).call().unwrap();
    response.body_mut().read_to_string().unwrap()
}
