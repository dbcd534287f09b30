//! RFC 8785 canonical JSON.

use serde_json::json;
use writ_events::canonical::to_vec;

fn check(input: serde_json::Value, expected: &str) {
    assert_eq!(String::from_utf8(to_vec(&input)).unwrap(), expected);
}

#[test]
fn objects_sort_by_utf16_code_units() {
    // RFC 8785, section 3.2.3: "\u{10000}" sorts before "\u{FB33}" in UTF-16
    // (surrogate 0xD800 < 0xFB33), unlike in UTF-8.
    check(
        json!({"\u{fb33}": 1, "\u{10000}": 2, "b": 3, "a": {"z": [], "y": null}, "\r": 4, "1": 5, "\u{80}": 6}),
        "{\"\\r\":4,\"1\":5,\"a\":{\"y\":null,\"z\":[]},\"b\":3,\"\u{80}\":6,\"\u{10000}\":2,\"\u{fb33}\":1}",
    );
}

#[test]
fn strings_use_minimal_escapes() {
    check(
        json!("\u{0}\u{8}\t\n\u{c}\r\u{1f}\"\\/\u{7f}é€😀"),
        "\"\\u0000\\b\\t\\n\\f\\r\\u001f\\\"\\\\/\u{7f}é€😀\"",
    );
}

#[test]
fn numbers_as_ecmascript_writes_them() {
    // From RFC 8785, appendix B, and section 3.2.2.3.
    for (n, s) in [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (0.000001, "0.000001"),
        (0.0000001, "1e-7"),
        (4.5, "4.5"),
        (2e-3, "0.002"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (333333333.3333333, "333333333.3333333"),
    ] {
        check(json!(n), s);
    }
    check(json!(u64::MAX), "18446744073709551615");
    check(json!(-42), "-42");
    check(json!([true, false, null, {}]), "[true,false,null,{}]");
}
