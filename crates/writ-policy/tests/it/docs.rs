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
    known.extend(writ_model::ReasonCode::CHANNEL.map(str::to_owned));
    for row in reason_code_rows() {
        let code = row[0].trim_matches('`');
        assert!(
            known.iter().any(|k| k == code),
            "docs/legal-rules.md lists `{code}`, which neither the pack nor the engine emits"
        );
    }
}

/// Every file of the repository that a reader or a build sees, as text.
fn repository_texts() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(
                    name.as_str(),
                    "target" | ".git" | "node_modules" | "corpus" | "artifacts"
                ) && !name.starts_with('.')
                    || name == ".ci"
                {
                    stack.push(path);
                }
                continue;
            }
            let texty = [
                ".rs", ".md", ".toml", ".sh", ".py", ".cedar", ".json", ".mjs",
            ]
            .iter()
            .any(|ext| name.ends_with(ext));
            if texty && let Ok(text) = std::fs::read_to_string(&path) {
                out.push((path.strip_prefix(&root).unwrap().to_owned(), text));
            }
        }
    }
    out
}

/// The project documents itself: nothing outside `docs/` names the
/// product's contracts as files that are not in the repository.
#[test]
fn nothing_cites_a_contract_outside_the_repository() {
    let mut bad = Vec::new();
    for (path, text) in repository_texts() {
        if path.starts_with("docs") {
            continue;
        }
        for stem in ["formats", "legal-rules", "product", "cli", "libraries"] {
            let name = format!("{stem}.md");
            for (at, _) in text.match_indices(&name) {
                let before = &text[..at];
                let cited_in_docs = before.ends_with("docs/");
                let part_of_longer = before
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
                if !cited_in_docs && !part_of_longer {
                    bad.push(format!("{}: {name}", path.display()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "cite docs/ instead: {bad:#?}");
}

/// Lifecycle words are written once, in `writ_model::lifecycle`: the
/// application crates name them through its enums.
#[test]
fn lifecycle_words_live_in_their_type() {
    const WORDS: [&str; 12] = [
        "in_review",
        "approved",
        "narrowed",
        "rejected",
        "sealed",
        "ready",
        "superseded",
        "confirmed",
        "sending",
        "sent",
        "logged",
        "deferred",
    ];
    let mut bad = Vec::new();
    for (path, text) in repository_texts() {
        let p = path.to_string_lossy();
        let app = [
            "crates/writ-gateway/src",
            "crates/writ-server/src",
            "crates/writ-cli/src",
        ]
        .iter()
        .any(|d| p.starts_with(d));
        if !app || !p.ends_with(".rs") {
            continue;
        }
        for w in WORDS {
            if text.contains(&format!("\"{w}\"")) {
                bad.push(format!("{p}: \"{w}\""));
            }
        }
    }
    assert!(bad.is_empty(), "use writ_model::lifecycle: {bad:#?}");
}
