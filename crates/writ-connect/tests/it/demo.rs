use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use writ_connect::Connector;
use writ_connect::demo::{DemoData, END, START, bulk_account, parse_size, people, plan};
use writ_model::{Category, Timestamp};

use crate::range;

fn lines(
    account: &str,
    category: Category,
    r: Option<writ_model::order::DateRange>,
) -> Vec<String> {
    DemoData
        .records(account, category, r)
        .unwrap()
        .map(|r| r.unwrap().data.as_str().to_owned())
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
    assert!(first.data.value().unwrap()["body"].as_str().unwrap().len() > 100);
    assert!(
        first.data.value().unwrap()["attachments"][0]["data_base64"]
            .as_str()
            .is_some()
    );
    let session = DemoData
        .records(&account, Category::Identification, None)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert!(session.data.value().unwrap()["ip"].as_str().is_some());
    let profile: Vec<_> = DemoData
        .records(&account, Category::Subscriber, None)
        .unwrap()
        .collect();
    assert_eq!(profile.len(), 1);
}

/// Accounts with a written inbox, fixture accounts without one, synthetic
/// accounts of the demo directory, an address and a benchmark account.
const ACCOUNTS: &[&str] = &[
    "acct-us-alice",
    "acct-ie-ciara",
    "acct-de-dieter",
    "acct-gb-emma",
    "acct-ie-jules",
    "acct-us-bob",
    "acct-ie-ivan",
    "acct-demo-00042",
    "acct-demo-01234",
    "carol@example.org",
    "bulk-1048576",
];

fn records(account: &str, category: Category) -> Vec<serde_json::Value> {
    DemoData
        .records(account, category, None)
        .unwrap()
        .map(|r| r.unwrap().data.value().unwrap())
        .collect()
}

fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
}

/// The `<address>`es a text names.
fn bracketed(text: &str) -> Vec<&str> {
    text.split('<')
        .skip(1)
        .filter_map(|s| s.split_once('>').map(|(a, _)| a))
        .filter(|a| a.contains('@'))
        .collect()
}

#[test]
fn every_address_is_the_accounts_own_or_one_of_its_contacts() {
    for account in ACCOUNTS {
        let p = people(account);
        let contacts: BTreeSet<&str> = p.contacts.iter().map(|c| c.1.as_str()).collect();
        assert!(contacts.len() >= 4, "{account}: {contacts:?}");
        assert!(!contacts.contains(p.email.as_str()), "{account}");

        let profile = &records(account, Category::Subscriber)[0];
        assert_eq!(str_of(profile, "account"), *account);
        assert_eq!(str_of(profile, "email"), p.email, "{account}");
        assert_eq!(str_of(profile, "name"), p.name, "{account}");
        assert_eq!(str_of(profile, "country"), p.country, "{account}");
        assert_eq!(profile["address"]["country"], p.country, "{account}");
        assert!(contacts.contains(str_of(profile, "recovery_email")));

        let mut written_with = BTreeSet::new();
        for category in [Category::Traffic, Category::Content] {
            for r in records(account, category) {
                let from = str_of(&r, "from");
                let to: Vec<&str> = r["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
                    .collect();
                assert_eq!(to.len(), 1, "{account}: {r}");
                let (sent, other) = if from == p.email {
                    (true, to[0])
                } else {
                    assert_eq!(to[0], p.email, "{account}: {r}");
                    (false, from)
                };
                assert!(contacts.contains(other), "{account}: {other}");
                written_with.insert(other.to_owned());
                // A message id names the sender's domain.
                let domain = if sent { &p.email } else { other }
                    .rsplit('@')
                    .next()
                    .unwrap();
                assert!(str_of(&r, "message_id").ends_with(&format!("@{domain}>")));
                if category == Category::Traffic {
                    assert_eq!(r["direction"], if sent { "out" } else { "in" });
                } else {
                    for address in bracketed(str_of(&r, "body")) {
                        assert!(
                            address == p.email || contacts.contains(address),
                            "{account}: {address} in {r}"
                        );
                    }
                }
            }
        }
        // A stable set of contacts: an account with more than a handful of
        // messages writes with several of them, and with nobody else.
        if plan(account).messages > 16 {
            assert!(written_with.len() >= 4, "{account}: {written_with:?}");
        }
    }
}

#[test]
fn replies_answer_an_earlier_message_of_their_conversation() {
    for account in ACCOUNTS {
        let content = records(account, Category::Content);
        let mut earlier: BTreeMap<String, &serde_json::Value> = BTreeMap::new();
        let mut replies = 0;
        for r in &content {
            let subject = str_of(r, "subject");
            if let Some(original) = subject.strip_prefix("Re: ") {
                let parent = str_of(r, "in_reply_to");
                let parent = earlier
                    .get(parent)
                    .unwrap_or_else(|| panic!("{account}: {r} answers no earlier message"));
                assert_eq!(
                    str_of(parent, "subject").trim_start_matches("Re: "),
                    original,
                    "{account}"
                );
                assert!(str_of(parent, "at") < str_of(r, "at"), "{account}: {r}");
                // Between the same two people, the earlier message quoted.
                let people = |m: &serde_json::Value| {
                    let mut p = [str_of(m, "from").to_owned(), m["to"][0].to_string()];
                    p[1] = p[1].trim_matches('"').to_owned();
                    p.sort();
                    p
                };
                assert_eq!(people(parent), people(r), "{account}");
                if !account.starts_with("bulk-") {
                    let body = str_of(r, "body");
                    let quoted = format!("<{}> wrote:", str_of(parent, "from"));
                    assert!(body.contains(&quoted), "{account}: {body}");
                }
                replies += 1;
            } else {
                assert!(r.get("in_reply_to").is_none(), "{account}: {r}");
            }
            assert!(
                earlier
                    .insert(str_of(r, "message_id").to_owned(), r)
                    .is_none(),
                "{account}: message ids are unique"
            );
        }
        assert!(replies > 0, "{account} has no conversation");
    }
}

#[test]
fn times_are_in_order_and_ranges_select_exactly_what_is_dated_inside_them() {
    let ranges = [
        range("2026-01-01T00:00:00Z", "2026-10-31T23:59:59Z"),
        range("2020-01-01T00:00:00Z", "2020-02-29T23:59:59Z"),
        range("2023-03-05T12:00:00Z", "2023-03-19T12:00:00Z"),
    ];
    let (start, end) = (
        Timestamp::from_second(START).unwrap(),
        Timestamp::from_second(END).unwrap(),
    );
    for account in ACCOUNTS {
        for category in [
            Category::Identification,
            Category::Location,
            Category::Traffic,
            Category::Content,
        ] {
            let all: Vec<_> = DemoData
                .records(account, category, None)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let times: Vec<Timestamp> = all.iter().map(|r| r.at.unwrap()).collect();
            assert!(
                times.windows(2).all(|w| w[0] < w[1]),
                "{account} {category}: out of order"
            );
            assert!(times.iter().all(|t| *t >= start && *t < end));
            for r in &all {
                assert_eq!(r.data.value().unwrap()["at"], r.at.unwrap().to_string());
            }
            for range in &ranges {
                let inside: Vec<_> = all
                    .iter()
                    .filter(|r| r.at.is_some_and(|at| at >= range.from && at <= range.to))
                    .map(|r| r.data.clone())
                    .collect();
                let ranged: Vec<_> = DemoData
                    .records(account, category, Some(*range))
                    .unwrap()
                    .map(|r| r.unwrap().data)
                    .collect();
                assert_eq!(inside, ranged, "{account} {category} {range:?}");
            }
        }
        // A message's header and its content describe the same message.
        let traffic = records(account, Category::Traffic);
        let content = records(account, Category::Content);
        assert_eq!(traffic.len(), content.len());
        for (t, c) in traffic.iter().zip(&content) {
            for key in ["at", "message_id", "from", "to"] {
                assert_eq!(t[key], c[key], "{account}: {key}");
            }
            if !account.starts_with("bulk-") {
                let carried = str_of(c, "body").len()
                    + c["attachments"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| str_of(a, "data_base64").len())
                        .sum::<usize>();
                assert_eq!(t["size"], carried, "{account}: {c}");
            }
        }
    }
}

#[test]
fn the_same_account_gives_the_same_bytes_twice() {
    let mut seen = BTreeSet::new();
    for account in ACCOUNTS {
        let once: Vec<Vec<String>> = Category::ALL
            .iter()
            .map(|c| lines(account, *c, None))
            .collect();
        let twice: Vec<Vec<String>> = Category::ALL
            .iter()
            .map(|c| lines(account, *c, None))
            .collect();
        assert_eq!(once, twice, "{account}");
        assert!(seen.insert(once), "{account} is like another account");
    }
}

#[test]
fn sessions_come_mostly_from_home_and_each_address_from_one_place() {
    let documentation = ["192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:"];
    for account in ACCOUNTS {
        let p = people(account);
        let sessions = records(account, Category::Identification);
        let places = records(account, Category::Location);
        assert_eq!(sessions.len(), places.len());
        let mut at_home = 0;
        let mut where_is: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (s, l) in sessions.iter().zip(&places) {
            assert_eq!(s["at"], l["at"]);
            let ip = str_of(s, "ip");
            assert_eq!(ip, str_of(l, "ip"));
            assert!(documentation.iter().any(|d| ip.starts_with(d)), "{ip}");
            let place = (
                str_of(l, "country").to_owned(),
                str_of(l, "city").to_owned(),
            );
            if place.0 == p.country {
                at_home += 1;
            }
            let first = where_is.entry(ip.to_owned()).or_insert(place.clone());
            assert_eq!(*first, place, "{account}: {ip} is in two places");
        }
        assert!(
            at_home * 10 >= sessions.len() * 7,
            "{account}: {at_home} of {} sessions at home",
            sessions.len()
        );
    }
}

/// The sizes of demo accounts (every category, as NDJSON lines) that the
/// demo and the benchmarks rely on.
const SIZES: &[(&str, usize)] = &[
    ("acct-us-alice", 559_233),
    ("acct-us-bob", 9_533),
    ("acct-ie-ciara", 10_058),
    ("acct-de-dieter", 8_672),
    ("acct-gb-emma", 568_991),
    ("acct-ie-ivan", 2_261_020),
    ("acct-ie-jules", 563_730),
    ("acct-demo-00001", 8_910),
    ("acct-demo-00002", 565_529),
    ("acct-demo-00003", 2_276_262),
    ("acct-demo-00015", 10_130),
    ("bob@example.com", 9_029),
    ("bulk-65536", 70_078),
    ("bulk-1048576", 1_133_626),
    ("bulk-8388608", 8_229_367),
];

#[test]
fn accounts_keep_their_sizes() {
    for (account, size) in SIZES {
        let total: usize = Category::ALL
            .iter()
            .map(|c| {
                lines(account, *c, None)
                    .iter()
                    .map(|l| l.len() + 1)
                    .sum::<usize>()
            })
            .sum();
        let ratio = total as f64 / *size as f64;
        assert!(
            (0.9..1.1).contains(&ratio),
            "{account}: {total} bytes, not about {size}"
        );
    }
}

#[test]
fn attachments_are_named_for_what_they_are() {
    let extensions = [
        ("application/pdf", ".pdf", &b"%PDF"[..]),
        ("image/jpeg", ".jpg", &b"\xff\xd8\xff"[..]),
        ("image/png", ".png", &b"\x89PNG"[..]),
        ("text/calendar", ".ics", &b"BEGIN:VCALENDAR"[..]),
    ];
    let mut named = 0;
    for account in ["acct-us-alice", "acct-gb-emma", "acct-demo-00042"] {
        for r in records(account, Category::Content) {
            for a in r["attachments"].as_array().unwrap() {
                let (name, kind) = (str_of(a, "name"), str_of(a, "type"));
                assert!(!name.contains('{'), "{name}");
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(str_of(a, "data_base64"))
                    .unwrap();
                assert_eq!(a["size"], bytes.len());
                if let Some((_, ext, magic)) = extensions.iter().find(|e| e.0 == kind) {
                    assert!(name.ends_with(ext), "{name} is {kind}");
                    assert!(bytes.len() < magic.len() || bytes.starts_with(magic));
                    named += 1;
                }
            }
        }
    }
    assert!(named > 50, "{named}");
}

/// The first records of alice's mailbox, as a reader of her package sees
/// them.
#[test]
fn alices_mailbox_reads_like_hers() {
    use std::fmt::Write as _;
    let account = "acct-us-alice";
    let mut out = String::new();
    let profile = &records(account, Category::Subscriber)[0];
    // Keys sorted whatever serde_json's `preserve_order` (on when the whole
    // workspace is built: cedar asks for it).
    let profile = serde_json::to_value(profile).unwrap();
    writeln!(
        out,
        "{}\n",
        serde_json::to_string_pretty(&sorted(&profile)).unwrap()
    )
    .unwrap();
    let places = records(account, Category::Location);
    for (s, l) in records(account, Category::Identification)
        .iter()
        .zip(&places)
        .take(5)
    {
        writeln!(
            out,
            "{}  {:<24} {}, {}  {}  {}",
            str_of(s, "at"),
            str_of(s, "ip"),
            str_of(l, "city"),
            str_of(l, "country"),
            str_of(s, "user_agent"),
            str_of(s, "result"),
        )
        .unwrap();
    }
    for m in records(account, Category::Content).iter().take(12) {
        writeln!(out, "\n----------------------------------------").unwrap();
        for (header, key) in [
            ("Date", "at"),
            ("From", "from"),
            ("Subject", "subject"),
            ("Message-ID", "message_id"),
            ("In-Reply-To", "in_reply_to"),
        ] {
            if let Some(value) = m[key].as_str() {
                writeln!(out, "{header}: {value}").unwrap();
            }
            if key == "from" {
                writeln!(out, "To: {}", m["to"][0].as_str().unwrap()).unwrap();
            }
        }
        for a in m["attachments"].as_array().unwrap() {
            writeln!(
                out,
                "Attachment: {} ({}, {} bytes)",
                str_of(a, "name"),
                str_of(a, "type"),
                a["size"]
            )
            .unwrap();
        }
        writeln!(out, "\n{}", str_of(m, "body").trim_end()).unwrap();
    }
    insta::assert_snapshot!("alice-mailbox", out);
}

/// The demo directory's accounts (`writ_gateway::demo`): the mail of each
/// belongs to the address the directory gives it, and its holder lives
/// where the directory places them.
#[test]
fn accounts_of_the_demo_directory_have_their_directory_address_and_country() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../writ-gateway/fixtures/demo.json")).unwrap();
    for account in fixture["accounts"].as_array().unwrap() {
        let id = str_of(account, "id");
        let email = account["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "email")
            .map(|i| str_of(i, "value"))
            .unwrap();
        let p = people(id);
        assert_eq!(p.email, email, "{id}");
        assert_eq!(p.country, str_of(&account["holder"], "located_in"), "{id}");
    }
    // Synthetic accounts: `acct-demo-<n>` is `user<n>@demo.example`, in the
    // n-th of eight regions.
    let regions = ["US", "IE", "DE", "GB", "FR", "BR", "IN", "DK"];
    for n in [1, 2, 42, 1234, 3000] {
        let p = people(&format!("acct-demo-{n:05}"));
        assert_eq!(p.email, format!("user{n:05}@demo.example"));
        assert_eq!(p.country, regions[n % regions.len()]);
    }
}

/// `v` with every object's keys in sorted order.
fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            serde_json::Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(sorted).collect())
        }
        other => other.clone(),
    }
}

/// Records keep their bytes: message records are written as JSON directly,
/// the others built as values whose keys keep the order they are written
/// in. Pinned here, every category of written inboxes and filler accounts,
/// so that demo packages stay what they were.
#[test]
fn records_keep_their_bytes() {
    for (account, expected) in [
        (
            "acct-us-alice",
            "46a24b20ab9de17279fd2d266ca1cdfba038ce8bb38b86a7acc08748e968d590",
        ),
        (
            "acct-gb-frank",
            "dd4e69bf5140e769d9a4aa4aa23960ef711b5e41e65fa87c0ed8e2d685e18240",
        ),
        (
            "bulk-300000",
            "0d0ae353fa30042ffc5b2058b6e207383753f0ba2301f880c3c07117ea07a2f9",
        ),
        (
            "bulk-4194304",
            "76f7c419b543bb439664a1181311c4b9f4fc5e10261ab56bfa848d4d9918396e",
        ),
    ] {
        let mut all = String::new();
        for category in Category::ALL {
            for r in DemoData.records(account, *category, None).unwrap() {
                let r = r.unwrap();
                assert!(!r.data.as_str().contains('\n'));
                all.push_str(r.data.as_str());
                all.push('\n');
            }
        }
        assert_eq!(
            writ_seal::hash::sha256_hex(all.as_bytes()),
            expected,
            "{account}"
        );
    }
}
