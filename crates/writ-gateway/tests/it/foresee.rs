//! What the portal's order form tells an agency before it sends an order
//! (`Gateway::foresee`): what the rules say whatever accounts the order
//! names, and nothing that depends on the account directory.

use serde_json::{Value, json};
use writ_model::Timestamp;

use super::{order, start};

/// One row: what it is, the order, its submitter, the refusal codes
/// foreseen and the (category, code) denials foreseen.
type Row = (
    &'static str,
    Vec<u8>,
    &'static str,
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
);

fn table() -> Vec<Row> {
    let expired = json!({"expires_at": Timestamp::now().plus_days(-1)});
    vec![
        (
            "a warrant for subscriber data and content: nothing foreseen",
            order("F-1", "search_warrant", json!({})),
            "us-fbi-wfo",
            vec![],
            vec![],
        ),
        (
            "a subpoena for content: the content is denied whatever the account",
            order(
                "F-2",
                "subpoena",
                json!({"issued_by": {"kind": "grand_jury"}}),
            ),
            "us-fbi-wfo",
            vec![],
            vec![("content", "category_not_authorized")],
        ),
        (
            "an expired warrant: refused as a whole",
            order("F-3", "search_warrant", expired),
            "us-fbi-wfo",
            vec!["order_expired"],
            vec![],
        ),
        (
            "an order for every user: refused as a whole",
            order(
                "F-4",
                "search_warrant",
                json!({"targets": [{"kind": "all_users", "value": "*"}]}),
            ),
            "us-fbi-wfo",
            vec!["not_particular"],
            vec![],
        ),
        (
            "another agency's name on the order: refused as a whole",
            order("F-5", "search_warrant", json!({})),
            "br-pf",
            vec!["submitter_mismatch"],
            vec![],
        ),
    ]
}

fn codes(reasons: &[writ_model::Reason]) -> Vec<String> {
    let mut c: Vec<String> = reasons.iter().map(|r| r.code.clone()).collect();
    c.dedup();
    c
}

#[tokio::test]
async fn foreseen_from_the_order_alone() {
    let t = start().await;
    for (what, body, submitter, refused, denied) in table() {
        let order = writ_model::parse::order(&body).unwrap();
        let f = t.gw.foresee(submitter, &order).await.unwrap();
        assert_eq!(codes(&f.refused), refused, "{what}: {f:?}");
        let got: Vec<(&str, &str)> = f
            .denied
            .iter()
            .map(|r| {
                (
                    r.category.map(|c| c.as_str()).unwrap_or("-"),
                    r.code.as_str(),
                )
            })
            .collect();
        assert_eq!(got, denied, "{what}: {f:?}");
        // The directory is never read: the same order naming an account
        // the provider does not hold is foreseen the same way.
        let mut ghost: Value = serde_json::from_slice(&body).unwrap();
        if ghost["targets"][0]["kind"] == "email" {
            ghost["targets"][0]["value"] = json!("nobody-at-all@example.org");
            let ghost = writ_model::parse::order(ghost.to_string().as_bytes()).unwrap();
            let g = t.gw.foresee(submitter, &ghost).await.unwrap();
            let same = |rs: &[writ_model::Reason]| {
                rs.iter()
                    .map(|r| (r.code.clone(), r.category, r.message.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(same(&g.refused), same(&f.refused), "{what}");
            assert_eq!(same(&g.denied), same(&f.denied), "{what}");
        }
        // Nothing that depends on an account is ever foreseen.
        for r in f.refused.iter().chain(&f.denied) {
            assert!(
                ![
                    "no_data_found",
                    "extraterritorial_data",
                    "conflict_of_laws",
                    "agreement_excludes_us_person",
                ]
                .contains(&r.code.as_str()),
                "{what}: {r:?}"
            );
        }
    }
    // Foreseeing stores nothing.
    assert_eq!(t.gw.store().case_count().await.unwrap(), 0);
}
