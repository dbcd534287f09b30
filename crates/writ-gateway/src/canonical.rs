//! Canonical JSON (RFC 8785, JCS) for the values Writ hashes and logs.
//!
//! The encoding itself is the event model's (`writ_events::canonical`), so
//! that a case's hashes and its log entries can never disagree on it; this
//! module adds the hashes the gateway needs.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical text of a JSON value.
pub fn to_string(value: &Value) -> String {
    writ_events::canonical::to_string(value)
}

/// The canonical text of any serialisable value.
pub fn of<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    Ok(to_string(&serde_json::to_value(value)?))
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_members_and_drops_white_space() {
        let v: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": true}], "a": "x\u0001" }"#)
                .unwrap();
        assert_eq!(
            to_string(&v),
            r#"{"a":"x\u0001","b":[1,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn sorts_by_utf16_code_units() {
        // U+10000 is D800 DC00 in UTF-16, which sorts before U+FF61.
        let v: Value = serde_json::from_str("{\"\u{ff61}\":1,\"\u{10000}\":2}").unwrap();
        assert_eq!(to_string(&v), "{\"\u{10000}\":2,\"\u{ff61}\":1}");
    }
}
