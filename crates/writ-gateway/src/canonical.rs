//! Canonical JSON (RFC 8785, JCS) for the values Writ hashes and logs.
//!
//! Object members are sorted by their names' UTF-16 code units, there is no
//! white space, and strings are escaped as JCS requires (serde_json's string
//! escaping is the same: `\b \t \n \f \r \" \\` and `\u00xx` for the other
//! control characters). Integers print as themselves; Writ's formats carry no
//! fractions, and a fraction is printed by serde_json's shortest round-trip
//! form, which agrees with JCS for every value that is not in exponent form.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical text of a JSON value.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// The canonical text of any serialisable value.
pub fn of<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    Ok(to_string(&serde_json::to_value(value)?))
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push_str(&value.to_string())
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
    }
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
