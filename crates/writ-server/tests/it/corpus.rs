//! Every public corpus order, sent to a demo server by its agency with its
//! times moved to the present, gets the corpus's decision (`docs/http.md`, "Demo
//! data"). Left to the engine's own tests: orders whose submitter is not the
//! order's agency or is unregistered, orders that need earlier holds, and
//! orders whose outcome depends on the fixture's absolute dates.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Value, json};
use writ_model::Timestamp;

use crate::support::TestApp;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus/public")
}

/// Orders whose outcome depends on the fixture's absolute dates: an agency
/// verified days before the case's `now` (a "new requester"), which is
/// months ago in the demo registry.
const DATE_DEPENDENT: &[&str] = &["027-emergency-new-requester"];

fn shift(v: &mut Value, seconds: i64) {
    if let Some(s) = v.as_str()
        && let Ok(t) = Timestamp::parse(s)
    {
        *v = json!(t.plus_seconds(seconds));
        return;
    }
    match v {
        Value::Object(map) => map.values_mut().for_each(|x| shift(x, seconds)),
        Value::Array(items) => items.iter_mut().for_each(|x| shift(x, seconds)),
        _ => {}
    }
}

fn pairs(d: &Value) -> BTreeSet<(String, String, String)> {
    d["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["target"].as_str().unwrap().to_owned(),
                p["category"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn codes(d: &Value, key: &str) -> BTreeSet<String> {
    d[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.get("code").unwrap_or(r).as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn corpus_orders_get_the_corpus_decision() {
    let t = TestApp::start().await;
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 46, "corpus not found");
    let (mut sent, mut failures) = (0, Vec::new());
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut order = case["order"].clone();
        let agency = order["agency"].as_str().unwrap().to_owned();
        let registered = case["agencies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == agency);
        if case["submitted_by"].as_str() != Some(agency.as_str())
            || !registered
            || !order["renews"].is_null()
            || case["prior"].as_array().is_some_and(|p| !p.is_empty())
            || DATE_DEPENDENT.contains(&name.as_str())
        {
            continue;
        }
        let now = Timestamp::now();
        let case_now = Timestamp::parse(case["now"].as_str().unwrap()).unwrap();
        let delta = now.as_second() - case_now.as_second();
        shift(&mut order, delta);
        order["reference"] = json!(format!("CORPUS-{name}"));
        let callback = order["emergency"]["callback"].clone();
        if let Some(e) = order["emergency"].as_object_mut() {
            e.remove("callback");
        }
        let r = t.submit(&agency, &order).await;
        assert_eq!(r.status, 201, "{name}: {}", r.text);
        let mut answer = r.json();
        if !callback.is_null()
            && codes(&answer["decision"], "reasons").contains("emergency_unverified")
        {
            let id = answer["case"].as_str().unwrap().to_owned();
            let cb = t
                .as_user(
                    "rita",
                    "POST",
                    &format!("/v1/review/cases/{id}/callback"),
                    Some(json!({
                        "number_source": callback["number_source"],
                        "verified": callback["verified"],
                    })),
                )
                .await;
            assert_eq!(cb.status, 200, "{name}: {}", cb.text);
            answer = cb.json();
        }
        sent += 1;
        let d = &answer["decision"];
        let e = &case["expect"];
        let mut wrong = Vec::new();
        if d["outcome"] != e["outcome"] {
            wrong.push(format!("outcome {} != {}", d["outcome"], e["outcome"]));
        }
        if pairs(d) != pairs(e) {
            wrong.push(format!("pairs {:?} != {:?}", pairs(d), pairs(e)));
        }
        if codes(d, "reasons") != codes(e, "reasons") {
            wrong.push(format!(
                "reasons {:?} != {:?}",
                codes(d, "reasons"),
                codes(e, "reasons")
            ));
        }
        if d["notify"]["when"] != e["notify"]["when"] {
            wrong.push(format!(
                "notify {} != {}",
                d["notify"]["when"], e["notify"]["when"]
            ));
        }
        // Deadlines move with the times; allow the seconds the request took.
        let due = Timestamp::parse(d["due_at"].as_str().unwrap()).unwrap();
        let expected_due = Timestamp::parse(e["due_at"].as_str().unwrap())
            .unwrap()
            .plus_seconds(delta);
        if (due.as_second() - expected_due.as_second()).abs() > 120 {
            wrong.push(format!("due_at {due} != {expected_due}"));
        }
        if !wrong.is_empty() {
            failures.push(format!("{name}: {}", wrong.join("; ")));
        }
    }
    assert!(sent >= 55, "only {sent} corpus orders sent");
    assert!(
        failures.is_empty(),
        "{} of {sent} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
