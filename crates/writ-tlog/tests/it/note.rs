//! Signed notes and checkpoints (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).

use writ_tlog::note::{Checkpoint, NoteError, NoteSigner, NoteVerifier};
use writ_tlog::{Hash, hash::leaf_hash};

fn signer() -> NoteSigner {
    NoteSigner::new("writ.example/log", &[1u8; 32]).unwrap()
}

#[test]
fn vkey_round_trips_and_binds_the_name() {
    let s = signer();
    let v = s.verifier();
    let text = v.to_string();
    assert!(text.starts_with("writ.example/log+"));
    let parts: Vec<&str> = text.splitn(3, '+').collect();
    assert_eq!(parts[1].len(), 8);
    assert_eq!(NoteVerifier::parse(&text).unwrap(), v);
    // Another name with the same key: the hash no longer matches.
    let renamed = text.replacen("writ.example/log", "evil.example/log", 1);
    assert!(matches!(
        NoteVerifier::parse(&renamed),
        Err(NoteError::KeyHashMismatch)
    ));
    for bad in [
        "",
        "a+b",
        "a+0011223g+AQ==",
        "writ.example/log+00000000+AQ==",
    ] {
        assert!(NoteVerifier::parse(bad).is_err(), "{bad}");
    }
    assert!(NoteSigner::new("bad name", &[1; 32]).is_err());
    assert!(!format!("{s:?}").contains("0101"));
}

#[test]
fn checkpoints_sign_and_open() {
    let s = signer();
    let v = s.verifier();
    let cp = Checkpoint::new("writ.example/log", 42, leaf_hash(b"x"));
    let note = s.sign(&cp.to_text()).unwrap();
    assert!(note.starts_with("writ.example/log\n42\n"));
    assert!(note.contains("\n\n\u{2014} writ.example/log "));
    assert_eq!(v.open_checkpoint(&note).unwrap(), cp);

    // Any change to the text or the signature fails.
    for (i, _) in note.char_indices().filter(|(i, _)| *i < note.len() - 2) {
        let mut bytes = note.clone().into_bytes();
        bytes[i] ^= 1;
        if let Ok(changed) = String::from_utf8(bytes) {
            assert!(v.open_checkpoint(&changed).is_err(), "flip at {i}");
        }
    }
    // A signature by another key is ignored, and so not enough.
    let other = NoteSigner::new("writ.example/log", &[2; 32]).unwrap();
    let forged = other.sign(&cp.to_text()).unwrap();
    assert!(matches!(
        v.open_checkpoint(&forged),
        Err(NoteError::NotSigned(_))
    ));
    // Extra signatures by other keys (witnesses, later) are fine.
    let cosigned = format!("{note}{}", forged.split_once("\n\n").unwrap().1);
    assert_eq!(v.open_checkpoint(&cosigned).unwrap(), cp);
    // Another origin under the same key name is refused.
    let elsewhere = Checkpoint::new("elsewhere", 1, Hash::empty());
    let note = s.sign(&elsewhere.to_text()).unwrap();
    assert!(matches!(
        v.open_checkpoint(&note),
        Err(NoteError::OriginMismatch { .. })
    ));
}

#[test]
fn checkpoint_text_is_strict() {
    let root = Hash::empty().to_base64();
    let ok = format!("o\n5\n{root}\nextension line\n");
    let cp = Checkpoint::parse(&ok).unwrap();
    assert_eq!(cp.extensions, vec!["extension line".to_owned()]);
    assert_eq!(cp.to_text(), ok);
    for bad in [
        format!("o\n5\n{root}"),
        format!("\n5\n{root}\n"),
        format!("o\n05\n{root}\n"),
        format!("o\n-5\n{root}\n"),
        format!("o\n5\n{root}x\n"),
        format!("o\n5\n{root}\n\n"),
        "o\n5\n".to_owned(),
    ] {
        assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
    }
}

#[test]
fn key_id_is_per_spec() {
    // c2sp.org/signed-note: the key id is the first 4 bytes of
    // SHA-256(name || "\n" || 0x01 || public key).
    use base64::Engine as _;
    use sha2::Digest as _;
    let v = signer().verifier().to_string();
    let key = base64::engine::general_purpose::STANDARD
        .decode(v.rsplit('+').next().unwrap())
        .unwrap();
    assert_eq!(key.len(), 33);
    assert_eq!(key[0], 1);
    let mut input = b"writ.example/log\n".to_vec();
    input.extend_from_slice(&key);
    let digest = sha2::Sha256::digest(&input);
    let expected: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v.split('+').nth(1).unwrap(), expected);
}
