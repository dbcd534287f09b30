//! Tidy check: the reason-code table of `docs/legal-rules.md` lists every
//! rule of the default pack exactly (code, rule id, level, message and
//! citation) and every code the engine emits by itself, so that the
//! reference cannot drift from the pack.

use writ_policy::{Level, NO_DATA_FOUND, POLICY_ERROR};

use crate::default_pack;

/// The rows of the table under the `## Reason codes` heading, as cells.
fn reason_code_rows() -> Vec<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/legal-rules.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let start = text
        .find("\n## Reason codes\n")
        .expect("docs/legal-rules.md has no `## Reason codes` section");
    let section = &text[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Refusal => "refusal",
        Level::Trigger => "trigger",
        Level::Info => "info",
        Level::Deny => "deny",
        Level::Review => "review",
    }
}

#[test]
fn every_rule_of_the_default_pack_is_in_the_reason_code_table() {
    let rows = reason_code_rows();
    assert!(!rows.is_empty(), "the reason-code table has no rows");
    let mut missing = Vec::new();
    for rule in default_pack().rules() {
        let code = format!("`{}`", rule.code);
        let id = format!("`{}`", rule.id);
        let found = rows.iter().any(|row| {
            row.len() == 6
                && row[0] == code
                && row[1] == id
                && row[2].starts_with(level_name(rule.level))
                && row[4] == rule.message
                && row[5] == rule.citation
        });
        if !found {
            missing.push(format!(
                "{} {} ({}): {} / {}",
                rule.code,
                rule.id,
                level_name(rule.level),
                rule.message,
                rule.citation
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/legal-rules.md, \"Reason codes\", lacks or misstates these rules of the default pack:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_code_the_engine_emits_is_in_the_reason_code_table() {
    let rows = reason_code_rows();
    for code in [NO_DATA_FOUND, POLICY_ERROR] {
        let cell = format!("`{code}`");
        assert!(
            rows.iter().any(|row| row.first() == Some(&cell)),
            "docs/legal-rules.md, \"Reason codes\", has no row for `{code}`"
        );
    }
}

#[test]
fn the_table_names_no_code_the_pack_does_not_have() {
    let pack = default_pack();
    let mut known: Vec<String> = pack.rules().iter().map(|r| r.code.clone()).collect();
    known.push(NO_DATA_FOUND.to_owned());
    known.push(POLICY_ERROR.to_owned());
    for row in reason_code_rows() {
        let code = row[0].trim_matches('`');
        assert!(
            known.iter().any(|k| k == code),
            "docs/legal-rules.md lists `{code}`, which neither the pack nor the engine emits"
        );
    }
}
