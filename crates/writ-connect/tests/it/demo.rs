use writ_connect::Connector;
use writ_connect::demo::{DemoData, bulk_account, parse_size, plan};
use writ_model::Category;

use crate::range;

fn lines(
    account: &str,
    category: Category,
    r: Option<writ_model::order::DateRange>,
) -> Vec<String> {
    DemoData
        .records(account, category, r)
        .unwrap()
        .map(|r| serde_json::to_string(&r.unwrap().data).unwrap())
        .collect()
}

#[test]
fn the_same_account_always_gives_the_same_records() {
    for category in Category::ALL {
        assert_eq!(
            lines("alice@example.com", *category, None),
            lines("alice@example.com", *category, None)
        );
    }
    assert_ne!(
        lines("alice@example.com", Category::Traffic, None),
        lines("bob@example.com", Category::Traffic, None)
    );
}

#[test]
fn a_range_selects_exactly_the_records_dated_inside_it() {
    let account = bulk_account(4 * 1024 * 1024);
    let all = DemoData.records(&account, Category::Traffic, None).unwrap();
    let r = range("2024-01-01T00:00:00Z", "2024-06-30T23:59:59Z");
    let inside: Vec<_> = all
        .map(Result::unwrap)
        .filter(|x| x.at.is_some_and(|at| at >= r.from && at <= r.to))
        .map(|x| x.data)
        .collect();
    let ranged: Vec<_> = DemoData
        .records(&account, Category::Traffic, Some(r))
        .unwrap()
        .map(|x| x.unwrap().data)
        .collect();
    assert!(!inside.is_empty());
    assert_eq!(inside, ranged);
}

#[test]
fn sizes_follow_the_account_id() {
    assert_eq!(parse_size("1GiB"), Some(1 << 30));
    assert_eq!(parse_size("200MB"), Some(200_000_000));
    assert_eq!(parse_size("5 GiB"), Some(5 << 30));
    assert_eq!(parse_size("lots"), None);
    let target = 8 * 1024 * 1024;
    let account = bulk_account(target);
    assert_eq!(plan(&account).target_bytes, target);
    let total: usize = Category::ALL
        .iter()
        .map(|c| {
            lines(&account, *c, None)
                .iter()
                .map(|l| l.len() + 1)
                .sum::<usize>()
        })
        .sum();
    let ratio = total as f64 / target as f64;
    assert!(
        (0.7..1.3).contains(&ratio),
        "{total} bytes for a target of {target}"
    );
    // Ordinary ids spread over size classes; most accounts are small, and
    // some only a few KB.
    let sizes: Vec<u64> = (0..200)
        .map(|i| plan(&format!("user{i}@example.com")).target_bytes)
        .collect();
    let small = sizes.iter().filter(|b| **b <= 512 * 1024).count();
    let tiny = sizes.iter().filter(|b| **b <= 8 * 1024).count();
    assert!(small > 100, "{small}");
    assert!(tiny > 50, "{tiny}");
}

#[test]
fn content_has_bodies_and_attachments_and_sessions_have_ips() {
    let account = bulk_account(64 * 1024 * 1024);
    let first = DemoData
        .records(&account, Category::Content, None)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert!(first.data["body"].as_str().unwrap().len() > 100);
    assert!(
        first.data["attachments"][0]["data_base64"]
            .as_str()
            .is_some()
    );
    let session = DemoData
        .records(&account, Category::Identification, None)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert!(session.data["ip"].as_str().is_some());
    let profile: Vec<_> = DemoData
        .records(&account, Category::Subscriber, None)
        .unwrap()
        .collect();
    assert_eq!(profile.len(), 1);
}
