//! `writ agency`: the registry from the command line.

use crate::{database_args, stderr, stdout, test_database, writ};

#[test]
fn add_key_verify_suspend() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let database = test_database();
    // `writ agency SUBCOMMAND --data DIR [--database URL] ARGS...`
    let agency = |sub: &str, args: &[&str]| {
        writ(
            &[
                &["agency", sub, "--data", data],
                &database_args(&database)[..],
                args,
            ]
            .concat(),
        )
    };
    let o = agency(
        "add",
        &[
            "--id",
            "us-test-pd",
            "--name",
            "Test PD",
            "--country",
            "US",
            "--callback",
            "+12025550199",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let key = dir.path().join("test.key");
    let o = agency(
        "key-add",
        &["us-test-pd", "--generate", key.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let key_id = stdout(&o).trim().to_owned();
    assert!(key_id.starts_with("us-test-pd:"), "{key_id}");
    assert!(key.exists());
    let o = agency("verify", &["us-test-pd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = agency("show", &["us-test-pd"]);
    let view: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(view["status"], "verified");
    assert_eq!(view["keys"][0], key_id.as_str());
    assert_eq!(view["callback_numbers"][0], "+12025550199");
    // A revoked key leaves the entry; revoking it again is an error (1).
    let o = agency("key-revoke", &["us-test-pd", &key_id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("revoked"), "{}", stderr(&o));
    let o = agency("show", &["us-test-pd"]);
    let view: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(view["keys"], serde_json::json!([]));
    let o = agency("key-revoke", &["us-test-pd", &key_id]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not revoked yet"), "{}", stderr(&o));
    let o = agency("suspend", &["us-test-pd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Errors: an unknown agency (1), a malformed country (2), a duplicate (1).
    let o = agency("suspend", &["nobody"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = agency("add", &["--id", "x", "--name", "X", "--country", "usa"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = agency(
        "add",
        &["--id", "us-test-pd", "--name", "X", "--country", "US"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // On PostgreSQL nothing went to a SQLite file in the data folder.
    if database.is_some() {
        assert!(!dir.path().join("writ.db").exists());
    }
}

#[test]
fn sign_prints_a_signature_the_key_verifies() {
    use base64::Engine as _;
    use ed25519_dalek::Verifier;
    let dir = tempfile::tempdir().unwrap();
    let (key, text) = writ_gateway::demo::new_signing_key().unwrap();
    let path = dir.path().join("signing.key");
    std::fs::write(&path, text).unwrap();
    let challenge = "writ-portal-sign-in:0123456789abcdef.1764331200.00ff";
    let o = writ(&["agency", "sign", "--key", path.to_str().unwrap(), challenge]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(stdout(&o).trim())
        .unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&bytes).unwrap();
    let public = key.verifying_key();
    // What is signed is the domain-separated sign-in message, never the
    // text itself.
    let message = writ_gateway::auth::portal_sign_in_message(challenge);
    assert!(public.verify(message.as_bytes(), &sig).is_ok());
    assert!(public.verify(challenge.as_bytes(), &sig).is_err());
    // Anything but a portal challenge is refused (bad input), such as an
    // API request's signature base.
    for text in [
        "another text",
        "\"@method\": POST\n\"@path\": /v1/orders",
        "writ-portal-sign-in:",
        "writ-portal-sign-in:abc\n\"@method\": POST",
    ] {
        let o = writ(&["agency", "sign", "--key", path.to_str().unwrap(), text]);
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
    // A file that is not a key is bad input.
    std::fs::write(&path, "not a key").unwrap();
    let o = writ(&["agency", "sign", "--key", path.to_str().unwrap(), challenge]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
