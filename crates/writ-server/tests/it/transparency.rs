//! The public transparency report of a running server: the signed JSON and
//! the page, computed from the log the server publishes.

use serde_json::json;
use writ_model::Timestamp;
use writ_tlog::verify::DirFetch;

use crate::support::{TestApp, subpoena};

/// Waits (bounded) until the cases' `received` and `decided` events
/// (`events` of them) are in a published checkpoint. Delivery may add more
/// later (`disclosed`, `notified` once the subpoena's data is sealed).
async fn wait_logged(t: &TestApp, cases: &[String], events: usize) {
    let last = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let mut indexes = Vec::new();
            let mut all = 0;
            for case in cases {
                let evs = t.app.gateway().store().events_for_case(case).await.unwrap();
                let first = evs
                    .iter()
                    .filter(|e| e.kind == "received" || e.kind == "decided");
                all += first.clone().count();
                indexes.extend(first.filter_map(|e| e.log_index));
            }
            if all == events && indexes.len() == all {
                return indexes.into_iter().max().unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    let Ok(last) = last else {
        let mut seen = Vec::new();
        for case in cases {
            for e in t.app.gateway().store().events_for_case(case).await.unwrap() {
                seen.push((e.kind, e.state, e.log_index));
            }
        }
        panic!("the events do not reach the log: {seen:?}");
    };
    t.app
        .log
        .wait_published(u64::try_from(last).unwrap())
        .await
        .unwrap();
}

// Several threads: delivery seals the subpoena's data in the background,
// and must not starve the test's polling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_a_signed_report_of_its_log() {
    let t = TestApp::start().await;
    let approved = t
        .submit(
            "us-fbi-wfo",
            &subpoena("us-fbi-wfo", "TR-1", "alice@example.com"),
        )
        .await;
    assert_eq!(approved.status, 201, "{}", approved.text);
    // A subpoena cannot compel content: refused at once.
    let mut content = subpoena("us-fbi-wfo", "TR-2", "alice@example.com");
    content["categories"] = json!(["content"]);
    let refused = t.submit("us-fbi-wfo", &content).await;
    assert_eq!(refused.status, 201, "{}", refused.text);
    assert_eq!(refused.json()["decision"]["outcome"], "reject");
    let cases: Vec<String> = [&approved, &refused]
        .iter()
        .map(|r| r.json()["case"].as_str().unwrap().to_owned())
        .collect();
    wait_logged(&t, &cases, 4).await;

    let period = writ_report::Period::of(&Timestamp::now().to_string()).unwrap();
    let r = t
        .raw(
            "GET",
            &format!("/transparency.json?period={period}"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let report = writ_report::render::from_json(&r.text).unwrap();
    assert_eq!(report.period, period.to_string());
    let totals = &report.figures.totals;
    assert_eq!(totals.requests, 2);
    assert_eq!(totals.outcomes.rejected, 1);
    // The approved subpoena is pending until delivery has sealed its data.
    assert_eq!(
        totals.outcomes.pending + totals.outcomes.non_content_only,
        1,
        "{totals:?}"
    );
    assert_eq!(report.figures.requests[0].country.as_deref(), Some("US"));

    // Anyone can check it against the public log.
    let accepted = writ_report::verify(
        &report,
        &DirFetch(writ_tlog::objects_dir(t.data())),
        t.app.log.vkey(),
        &mut |_, _, _| {},
    )
    .unwrap();
    assert_eq!(accepted.size, report.checkpoint.size);

    let page = t.raw("GET", "/transparency", &[], vec![]).await;
    assert_eq!(page.status, 200);
    let embedded = writ_report::render::from_html(&page.text).unwrap();
    assert_eq!(embedded.period, report.period);
    embedded.verify_signature(t.app.log.vkey()).unwrap();

    let bad = t
        .raw("GET", "/transparency.json?period=2026-H3", &[], vec![])
        .await;
    bad.assert_problem(400);
}
