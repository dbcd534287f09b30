//! Figures of a small log whose every case was counted by hand: the
//! expected numbers are written out here and the rendered forms are
//! snapshots.

use writ_report::render::{self, Form};
use writ_report::{Band, CheckpointRef, Outcomes, Period, Report, ReportError, Tally};

use crate::{restricted, small_log, tally};

/// The cases of `data/small-log.ndjson`, period 2026-H2:
///
/// | case | country, instrument | state at the end | on_time |
/// | --- | --- | --- | --- |
/// | 1 | US subpoena, 2 targets | non-content only | met |
/// | 2 | US search warrant, 1 abroad | content disclosed (second package) | missed |
/// | 3 | US subpoena | rejected | met |
/// | 4 | DE court order, 3 targets | no data | met |
/// | 5 | US emergency request | pending (verified, approved, nothing sent) | – |
/// | 6 | GB overseas order | rejected (a confirmed review) | met |
/// | 7 | US subpoena | withdrawn | – |
/// | 8 | US preservation, 2 targets | preserved (reported apart) | met |
/// | 9 | US subpoena received in 2026-H1 | not counted | – |
/// | 10 | BR national security letter refused as `instrument_not_available`, 1 abroad | rejected | met |
/// | 11 | BR technical assistance | rejected | met |
#[test]
fn figures_of_a_hand_checked_log() {
    let f = tally(&small_log(), "2026-H2");
    assert_eq!(f.entries, 35);
    let t = &f.totals;
    assert_eq!(t.requests, 9);
    assert_eq!(t.accounts_specified, 12);
    assert_eq!(t.accounts, 8);
    assert_eq!(t.emergency, 1);
    assert_eq!((t.abroad_requests, t.accounts_abroad), (2, 2));
    assert_eq!(
        t.outcomes,
        Outcomes {
            content_disclosed: 1,
            non_content_only: 1,
            withdrawn: 1,
            no_data: 1,
            rejected: 4,
            pending: 1,
        }
    );
    assert_eq!((t.on_time.met, t.on_time.missed), (6, 1));
    assert_eq!(f.emergency.requests, 1);
    assert_eq!(f.emergency.outcomes.pending, 1);

    let rows: Vec<(Option<&str>, &str, u64)> = f
        .requests
        .iter()
        .map(|r| {
            (
                r.country.as_deref(),
                r.instrument.as_str(),
                r.counts.requests,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (Some("BR"), "national_security_letter", 1),
            (Some("BR"), "technical_assistance", 1),
            (Some("DE"), "court_order", 1),
            (Some("GB"), "uk_overseas_order", 1),
            (Some("US"), "emergency_request", 1),
            (Some("US"), "search_warrant", 1),
            (Some("US"), "subpoena", 3),
        ]
    );
    let us_subpoena = &f.requests[6].counts;
    assert_eq!(us_subpoena.accounts_specified, 4);
    assert_eq!(us_subpoena.outcomes.non_content_only, 1);
    assert_eq!(us_subpoena.outcomes.rejected, 1);
    assert_eq!(us_subpoena.outcomes.withdrawn, 1);

    assert_eq!(f.preservation.len(), 1);
    let p = &f.preservation[0];
    assert_eq!(
        (
            p.country.as_deref(),
            p.instrument.as_str(),
            p.requests,
            p.preserved,
            p.accounts_preserved
        ),
        (Some("US"), "preservation_request", 1, 1, 2)
    );

    let by_month: Vec<(&str, u64)> = f
        .months
        .iter()
        .map(|m| (m.month.as_str(), m.requests))
        .collect();
    assert_eq!(
        by_month,
        vec![
            ("2026-07", 2),
            ("2026-08", 1),
            ("2026-09", 1),
            ("2026-10", 1),
            ("2026-11", 3),
            ("2026-12", 1),
        ]
    );
    assert_eq!(f.national_security_letters.letters, None);
    insta::assert_json_snapshot!("small-log-figures", f);
}

#[test]
fn the_first_half_counts_only_its_own_case() {
    let f = tally(&small_log(), "2026-H1");
    assert_eq!(f.totals.requests, 1);
    // Disclosed in July, but counted in the period it was received.
    assert_eq!(f.totals.outcomes.non_content_only, 1);
}

#[test]
fn national_security_letters_in_bands_of_500() {
    let mut log = small_log();
    log.extend(restricted("letter", "2026-H2", 500));
    log.extend(restricted("selector", "2026-H2", 1000));
    log.extend(restricted("event", "2026-H2", 500));
    log.extend(restricted("letter", "2026-H1", 1500));
    let f = tally(&log, "2026-H2");
    let nsl = &f.national_security_letters;
    assert_eq!(nsl.letters, Some(Band { from: 0, to: 499 }));
    assert_eq!(nsl.selectors, Some(Band { from: 500, to: 999 }));
    assert_eq!(nsl.events, Some(Band { from: 0, to: 499 }));
    // Restricted entries are no ordinary requests.
    assert_eq!(f.totals.requests, 9);
    let h1 = tally(&log, "2026-H1");
    assert_eq!(
        h1.national_security_letters.letters,
        Some(Band {
            from: 1000,
            to: 1499
        })
    );
    assert_eq!(h1.national_security_letters.selectors, None);
}

#[test]
fn malformed_entries_are_errors_with_their_index() {
    let mut t = Tally::new(Period::parse("2026-H2").unwrap());
    for e in small_log().iter().take(3) {
        t.push(e).unwrap();
    }
    let err = t.push(br#"{"v":2,"kind":"received"}"#).unwrap_err();
    assert!(matches!(err, ReportError::Entry { index: 3, .. }), "{err}");
    let err = t.push(br#"{"v":1,"kind":"sneaked"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown kind"), "{err}");
    assert!(Period::parse("2026-H3").is_err());
}

fn report() -> Report {
    Report::new(
        "2026-H2",
        CheckpointRef {
            origin: "writ.example/log".into(),
            size: 35,
            root: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        },
        tally(&small_log(), "2026-H2"),
    )
}

#[test]
fn csv_has_googles_columns_and_merges_other() {
    let csv = render::to_csv(&report()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Period Ending,Country,CLDR Territory Code,Legal Process,User Data Requests,\
         Percentage of requests where some data produced,Users/Accounts Specified,\
         Content Disclosed,Non-Content Only,Withdrawn,No Data,Rejected,Pending,\
         Emergency Requests,Requests For Data Stored Abroad,Accounts Stored Abroad"
    );
    // The national security letter and the technical assistance request of
    // Brazil are both `Other`.
    assert!(
        csv.contains("2026-12-31,Brazil,BR,Other,2,0.00,2,0,0,0,0,2,0,0,1,1\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("2026-12-31,United States,US,Subpoena,3,33.33,4,"),
        "{csv}"
    );
    assert!(
        csv.contains("2026-12-31,United States,US,Preservation Requests,1,,2,"),
        "{csv}"
    );
    insta::assert_snapshot!("small-log-csv", csv);
    render::check_csv(&csv, &report()).unwrap();
    let tampered = csv.replace("Subpoena,3,", "Subpoena,2,");
    assert!(matches!(
        render::check_csv(&tampered, &report()),
        Err(ReportError::CsvMismatch(_))
    ));
    assert_eq!(Form::detect(&csv), Form::Csv);
}

#[test]
fn html_is_self_contained_and_embeds_the_report() {
    let r = report();
    let page = render::to_html(&r).unwrap();
    assert_eq!(Form::detect(&page), Form::Html);
    assert_eq!(render::from_html(&page).unwrap(), r);
    assert!(page.contains("<svg"), "charts are inline SVG");
    for external in ["<script src", "<link", "http://", "https://", "@import"] {
        assert!(!page.contains(external), "the page loads `{external}`");
    }
    // One script only: the embedded report (no JavaScript needed).
    assert_eq!(page.matches("<script").count(), 1);
    assert!(page.contains("United States"));
    assert!(page.contains("Transparency report 2026-H2"));
}

/// Counts as large as a `u64` holds are counted exactly, whether a case
/// starts with them or reaches them later.
#[test]
fn counts_beyond_32_bits_are_counted_exactly() {
    let entry = |case: &str, kind: &str, public: &str| {
        format!(
            r#"{{"case":"{case}","hour":"2026-07-02T10:00:00Z","kind":"{kind}","public":{public},"v":1}}"#
        )
        .into_bytes()
    };
    let received = |case: &str, instrument: &str, targets: u64| {
        entry(
            case,
            "received",
            &format!(
                r#"{{"country":"US","emergency":false,"instrument":"{instrument}","targets":{targets}}}"#
            ),
        )
    };
    let decided = |case: &str, accounts: u64, abroad: u64| {
        entry(
            case,
            "decided",
            &format!(
                r#"{{"accounts":{accounts},"accounts_abroad":{abroad},"on_time":true,"outcome":"approve"}}"#
            ),
        )
    };
    let big = u64::from(u32::MAX) + 1;
    let log = vec![
        received("c-00000000000000a1", "subpoena", 5_000_000_000),
        received("c-00000000000000b2", "subpoena", 1),
        received("case-7", "subpoena", 2),
        received("c-00000000000000d4", "preservation_request", 3),
        decided("c-00000000000000a1", 3, 0),
        decided("c-00000000000000b2", big, u64::from(u32::MAX)),
        decided("case-7", 2, 1),
        entry(
            "c-00000000000000b2",
            "disclosed",
            r#"{"disclosed":{"content":1},"on_time":false}"#,
        ),
        entry(
            "c-00000000000000d4",
            "preserved",
            r#"{"accounts":6000000000,"on_time":true}"#,
        ),
        entry(
            "c-00000000000000d4",
            "preserved",
            r#"{"accounts":18446744073709551615,"on_time":true}"#,
        ),
    ];
    let f = tally(&log, "2026-H2");
    let t = &f.totals;
    assert_eq!(t.requests, 3);
    assert_eq!(t.accounts_specified, 5_000_000_003);
    assert_eq!(t.accounts, 3 + big + 2);
    assert_eq!((t.abroad_requests, t.accounts_abroad), (2, big));
    assert_eq!(t.outcomes.content_disclosed, 1);
    assert_eq!(t.outcomes.pending, 2);
    assert_eq!((t.on_time.met, t.on_time.missed), (2, 1));
    let p = &f.preservation[0];
    assert_eq!((p.requests, p.accounts_specified), (1, 3));
    assert_eq!((p.preserved, p.accounts_preserved), (1, u64::MAX));

    // A second `received` is refused for a case kept whole too.
    let mut t = Tally::new(Period::parse("2026-H2").unwrap());
    for e in &log {
        t.push(e).unwrap();
    }
    let err = t
        .push(&received("c-00000000000000b2", "subpoena", 1))
        .unwrap_err();
    assert!(err.to_string().contains("a second `received`"), "{err}");
}
