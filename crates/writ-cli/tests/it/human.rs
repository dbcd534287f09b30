//! The `writ` command's human output, as a provider's legal team reads it:
//! tables with headers, statuses in words, proposals that say they wait for
//! a second person, and what a repeat, a preservation order and a national
//! security letter mean; `--json` keeps the API's machine values.

use crate::serve::start;
use crate::{repo, stderr, stdout, writ};

#[test]
fn the_cli_speaks_to_a_legal_team() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let data = dir.path();
    let key = data.join("demo/agencies/us-fbi-wfo/signing.key");
    let key = key.to_str().unwrap();
    let users = std::fs::read_to_string(data.join("demo/console-users.txt")).unwrap();
    let token = |role: &str| {
        users
            .lines()
            .find(|l| l.starts_with(&format!("{role} ")))
            .unwrap()
            .split_whitespace()
            .nth(4)
            .unwrap()
            .to_owned()
    };
    let rita = token("reviewer");
    let example = |name: &str| {
        repo()
            .join("examples/orders")
            .join(format!("{name}.json"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let submit = |name: &str| {
        let file = example(name);
        let o = writ(&[
            "submit",
            "--server",
            &server.url,
            "--agency",
            "us-fbi-wfo",
            "--key",
            key,
            &file,
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        stdout(&o)
    };
    let case_of = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("Case "))
            .unwrap()
            .trim()
            .to_owned()
    };

    // A first submission and its repeat.
    let first = submit("search-warrant");
    assert!(first.starts_with("Order received: case c-"), "{first}");
    assert!(first.contains("Outcome    Approved in full"), "{first}");
    assert!(first.contains("Subscriber data"), "{first}");
    assert!(!first.contains("search_warrant"), "{first}");
    let warrant = case_of(&first);
    let again = submit("search-warrant");
    assert!(
        again.starts_with(&format!(
            "Already submitted: this order (same reference, same content) is case {warrant}; nothing new was filed."
        )),
        "{again}"
    );

    // The user's notice for the subscriber data released at once lands in
    // the demo outbox; its receipt comes out as JSON.
    let outbox = data.join("demo/outbox");
    let mut eml = None;
    for _ in 0..120 {
        eml = std::fs::read_dir(&outbox).ok().and_then(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|x| x == "eml"))
        });
        if eml.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let eml = eml.expect("no notice in the demo outbox");
    let o = writ(&["receipt", "extract", eml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let receipt: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(receipt["case"], warrant.as_str(), "{receipt}");

    // A preservation order names its date and never gets a package.
    let preserve = submit("preservation-request");
    assert!(preserve.contains("Preserved until "), "{preserve}");
    assert!(preserve.contains("(preserve_until)"), "{preserve}");
    assert!(preserve.contains("no package is made"), "{preserve}");
    let held = case_of(&preserve);
    let out = data.join("packages");
    let o = writ(&[
        "fetch",
        "--server",
        &server.url,
        "--agency",
        "us-fbi-wfo",
        "--key",
        key,
        "--out",
        out.to_str().unwrap(),
        &held,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("is a preservation order")
            && stderr(&o).contains("never gets a package"),
        "{}",
        stderr(&o)
    );

    // A national security letter's entries are deferred.
    let nsl = submit("national-security-letter");
    assert!(nsl.contains("entries are deferred"), "{nsl}");

    // The queue as a table with a header row.
    let o = writ(&["review", "--server", &server.url, "--token", &rita, "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = stdout(&o);
    let header = list.lines().next().unwrap();
    for column in [
        "Case",
        "Reference",
        "Status",
        "Outcome",
        "Deadline",
        "Flags",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(list.contains("Waiting for review"), "{list}");
    assert!(list.contains("gag to challenge"), "{list}");
    assert!(!list.contains("in_review"), "{list}");
    // --json keeps the machine values.
    let o = writ(&[
        "review",
        "--server",
        &server.url,
        "--token",
        &rita,
        "--json",
        "list",
    ]);
    assert!(stdout(&o).contains("\"in_review\""), "{}", stdout(&o));

    // One case, for a person.
    let o = writ(&[
        "review",
        "--server",
        &server.url,
        "--token",
        &rita,
        "show",
        &warrant,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let show = stdout(&o);
    assert!(!show.trim_start().starts_with('{'), "{show}");
    for fact in [
        "Instrument Search warrant",
        "Legal basis 18 U.S.C.",
        "Issued by  Judge",
        "Date range 2026-01-01T00:00:00Z to",
        "Secrecy    none",
    ] {
        assert!(show.contains(fact), "{fact}: {show}");
    }

    // A proposal says it is recorded and waits for a different approver.
    let o = writ(&[
        "review",
        "--server",
        &server.url,
        "--token",
        &rita,
        "approve",
        &warrant,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stdout(&o);
    assert!(
        said.starts_with(&format!("Proposal recorded: approval of case {warrant}."))
            && said.contains("waits for a different approver"),
        "{said}"
    );
    let o = writ(&[
        "review",
        "--server",
        &server.url,
        "--token",
        &rita,
        "show",
        &warrant,
    ]);
    assert!(
        stdout(&o).contains("approval proposed by rita (reviewer)"),
        "{}",
        stdout(&o)
    );

    // `writ report` defaults to the current half-year.
    let o = writ(&["report", "--url", &format!("{}/log", server.url)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let period = report["period"].as_str().unwrap();
    let year = writ_model::Timestamp::now().to_string()[..4].to_owned();
    assert!(period.starts_with(&year), "{period}");
}

/// `writ receipt extract` reads the receipt out of a notice as mailed:
/// multipart, the attachment quoted-printable.
#[test]
fn a_receipt_is_extracted_from_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let eml = dir.path().join("notice.eml");
    std::fs::write(
        &eml,
        "From: Writ <notices@writ.example>\r\nTo: alice@example.com\r\n\
         Subject: We disclosed data about your account\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 7bit\r\n\r\nThe attached receipt.json ...\r\n\
         --b1\r\nContent-Type: application/json\r\n\
         Content-Disposition: attachment; filename=\"receipt.json\"\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n\
         {\"v\":1,\"case\":\"c-0123\",\"entries\":[{\"index\":4,\"kind\":\"disclos=\r\ned\"}],\"salt\":\"a=3Db\"}\r\n\
         --b1--\r\n",
    )
    .unwrap();
    let o = writ(&["receipt", "extract", eml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["case"], "c-0123");
    assert_eq!(v["entries"][0]["kind"], "disclosed");
    assert_eq!(v["salt"], "a=b");
    // Not a notice: exit 2.
    std::fs::write(&eml, "Subject: hello\r\n\r\nno attachment\r\n").unwrap();
    let o = writ(&["receipt", "extract", eml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
