//! A fast reading of entries in the form Writ writes them (RFC 8785: no
//! whitespace, no escapes in the fields a report reads), into the same
//! [`EntryView`] that `serde_json` would give.
//!
//! [`view`] reads a strict subset of JSON: an object without whitespace,
//! strings without escapes, integers without sign or fraction where a count
//! is read. On anything else it returns `None`, and the caller reads the
//! entry with [`EntryView::parse`], so the result (or the error) for any
//! input is the one `serde_json` gives. Where it returns `Some`, the fields
//! are those `EntryView::parse` would read: the same names, a second
//! occurrence of a field read back to `serde_json` (which refuses it), the
//! same kinds, units and outcomes, and every skipped value checked to be
//! JSON as `serde_json` checks it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use writ_events::{EntryKind, EntryView, Kind, PublicView, Unit};
use writ_model::Outcome;

/// Values nested deeper than this are left to `serde_json`.
const MAX_DEPTH: u32 = 32;

/// The entry version [`EntryView::parse`] accepts.
const VERSION: u64 = 1;

/// Reads `bytes` as [`EntryView::parse`] would, or `None` where the entry is
/// not in the form this reading covers.
#[inline]
pub(crate) fn view(bytes: &[u8]) -> Option<EntryView<'_>> {
    // Text throughout, so that the strings read need no check of their own.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut c = Cursor {
        text,
        b: bytes,
        i: 0,
    };
    let mut v = None;
    let mut kind = None;
    let mut case = None;
    let mut hour = None;
    let mut public = None;
    let mut unit = None;
    let mut period = None;
    c.object(|c, key| match key {
        "v" => set(&mut v, c.u64()?),
        "kind" => set(&mut kind, entry_kind(c.str()?)?),
        "case" => set(&mut case, c.opt_str()?),
        "hour" => set(&mut hour, c.opt_str()?),
        "public" => set(&mut public, c.opt_public()?),
        "unit" => set(&mut unit, c.opt_unit()?),
        "period" => set(&mut period, c.opt_str()?),
        _ => c.skip(0),
    })?;
    if c.i != bytes.len() || v? != VERSION {
        return None;
    }
    Some(EntryView {
        v: VERSION,
        kind: kind?,
        case: case.flatten(),
        hour: hour.flatten(),
        public: public.flatten(),
        unit: unit.flatten(),
        period: period.flatten(),
    })
}

/// Sets a field read once; a second occurrence is `serde_json`'s to refuse.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

fn entry_kind(name: &str) -> Option<EntryKind> {
    if name == "restricted" {
        return Some(EntryKind::Restricted);
    }
    Kind::parse(name).map(EntryKind::Event)
}

/// Whether any of the eight bytes of `word` is a `"`, a `\` or a control
/// character. Exact: each test is true if and only if some byte is zero
/// (`x ^ byte`) or below 0x20, the bit tricks of "Bit Twiddling Hacks"
/// ("Determine if a word has a byte less than n").
fn stops(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    below(word ^ (ONES * u64::from(b'"')), 1)
        || below(word ^ (ONES * u64::from(b'\\')), 1)
        || below(word, 0x20)
}

fn unit(name: &[u8]) -> Option<Unit> {
    match name {
        b"letter" => Some(Unit::Letter),
        b"selector" => Some(Unit::Selector),
        b"event" => Some(Unit::Event),
        _ => None,
    }
}

struct Cursor<'a> {
    /// The entry, and the same as bytes.
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    fn literal(&mut self, text: &[u8]) -> Option<()> {
        let end = self.i.checked_add(text.len())?;
        (self.b.get(self.i..end)? == text).then(|| self.i = end)
    }

    /// `null`, if it comes next.
    fn null(&mut self) -> bool {
        self.literal(b"null").is_some()
    }

    /// An object `{"key":value,...}`: `member` reads each value after its
    /// key (a key with an escape is `None`).
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string without escapes or control characters: where its bytes
    /// start and end.
    fn str_span(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut end = start;
        // Eight bytes at a time while none of them can end the string or
        // make it one this reading leaves to `serde_json`; the byte loop
        // below decides.
        while let Some(word) = self.b.get(end..end + 8) {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(word);
            if stops(u64::from_le_bytes(bytes)) {
                break;
            }
            end += 8;
        }
        loop {
            match *self.b.get(end)? {
                b'"' => break,
                b'\\' | 0..0x20 => return None,
                _ => end += 1,
            }
        }
        self.i = end + 1;
        Some((start, end))
    }

    /// A string without escapes or control characters: its bytes.
    fn raw_str(&mut self) -> Option<&'a [u8]> {
        let (start, end) = self.str_span()?;
        self.b.get(start..end)
    }

    fn str(&mut self) -> Option<&'a str> {
        let (start, end) = self.str_span()?;
        self.text.get(start..end)
    }

    fn opt_str(&mut self) -> Option<Option<Cow<'a, str>>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(Cow::Borrowed(self.str()?)))
    }

    /// An unsigned integer as `serde_json` reads one into a `u64`.
    fn u64(&mut self) -> Option<u64> {
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        let len = self.i - start;
        // No digits, or a leading zero.
        if len == 0 || (len > 1 && self.b.get(start) == Some(&b'0')) {
            return None;
        }
        Some(n)
    }

    fn opt_u64(&mut self) -> Option<Option<u64>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(self.u64()?))
    }

    fn opt_bool(&mut self) -> Option<Option<bool>> {
        if self.null() {
            Some(None)
        } else if self.literal(b"true").is_some() {
            Some(Some(true))
        } else {
            self.literal(b"false").map(|()| Some(false))
        }
    }

    fn opt_unit(&mut self) -> Option<Option<Unit>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(unit(self.raw_str()?)?))
    }

    fn opt_outcome(&mut self) -> Option<Option<Outcome>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(Outcome::parse(self.str()?)?))
    }

    fn opt_counts(&mut self) -> Option<Option<BTreeMap<Cow<'a, str>, u64>>> {
        if self.null() {
            return Some(None);
        }
        let mut map = BTreeMap::new();
        self.object(|c, key| {
            map.insert(Cow::Borrowed(key), c.u64()?);
            Some(())
        })?;
        Some(Some(map))
    }

    fn opt_public(&mut self) -> Option<Option<PublicView<'a>>> {
        if self.null() {
            return Some(None);
        }
        let mut country = None;
        let mut instrument = None;
        let mut emergency = None;
        let mut targets = None;
        let mut outcome = None;
        let mut accounts = None;
        let mut accounts_abroad = None;
        let mut action = None;
        let mut on_time = None;
        let mut disclosed = None;
        self.object(|c, key| match key {
            "country" => set(&mut country, c.opt_str()?),
            "instrument" => set(&mut instrument, c.opt_str()?),
            "emergency" => set(&mut emergency, c.opt_bool()?),
            "targets" => set(&mut targets, c.opt_u64()?),
            "outcome" => set(&mut outcome, c.opt_outcome()?),
            "accounts" => set(&mut accounts, c.opt_u64()?),
            "accounts_abroad" => set(&mut accounts_abroad, c.opt_u64()?),
            "action" => set(&mut action, c.opt_str()?),
            "on_time" => set(&mut on_time, c.opt_bool()?),
            "disclosed" => set(&mut disclosed, c.opt_counts()?),
            _ => c.skip(0),
        })?;
        Some(Some(PublicView {
            country: country.flatten(),
            instrument: instrument.flatten(),
            emergency: emergency.flatten(),
            targets: targets.flatten(),
            outcome: outcome.flatten(),
            accounts: accounts.flatten(),
            accounts_abroad: accounts_abroad.flatten(),
            action: action.flatten(),
            on_time: on_time.flatten(),
            disclosed: disclosed.flatten(),
        }))
    }

    /// Skips any JSON value, checking it as `serde_json` checks a value it
    /// ignores.
    fn skip(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.raw_str().map(|_| ()),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.object(|c, _| c.skip(depth + 1))
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    /// A JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return None;
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(bytes: &[u8]) {
        let slow = EntryView::parse(bytes);
        if let Some(fast) = view(bytes) {
            let slow = slow.unwrap_or_else(|e| {
                panic!(
                    "{}: read, serde_json refuses: {e}",
                    String::from_utf8_lossy(bytes)
                )
            });
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        }
    }

    #[test]
    fn reads_as_serde_json_does() {
        let cases: &[&str] = &[
            r#"{"case":"c-0123456789abcdef","hour":"2026-07-01T10","kind":"received","public":{"country":"DE","emergency":false,"instrument":"subpoena","targets":2},"v":1}"#,
            r#"{"case":"c-0123456789abcdef","commitments":{"a":"xyz","b":[1,2.5,-3e+4,true,null,{}]},"hour":"2026-07-01T10","kind":"decided","public":{"accounts":1,"accounts_abroad":0,"on_time":true,"outcome":"no_data"},"v":1}"#,
            r#"{"case":"c-1","kind":"disclosed","public":{"disclosed":{"content":3,"non_content":0}},"v":1}"#,
            r#"{"case":"c-1","kind":"reviewed","public":{"action":"confirm","outcome":"reject"},"v":1}"#,
            r#"{"kind":"restricted","period":"2026-H2","unit":"selector","v":1}"#,
            r#"{"kind":"registry","v":1}"#,
            r#"{"kind":"registry","v":2}"#,
            r#"{"kind":"nonsense","v":1}"#,
            r#"{"kind":"registry","v":1,"v":1}"#,
            r#"{"kind":"registry","v":01}"#,
            r#"{"kind":"registry","v":1.0}"#,
            r#"{"kind":"registry","v":18446744073709551616}"#,
            r#"{"kind":"registry", "v":1}"#,
            r#"{"kind":"registry","v":1} "#,
            r#"{"kind":"registry","v":1}x"#,
            r#"{"kind":"regi\u0073try","v":1}"#,
            r#"{"case":null,"hour":null,"kind":"decided","public":null,"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{"outcome":"maybe"},"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{"on_time":1},"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{"x":[1,]},"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{"x":-},"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{"x":01},"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{"x":1.},"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{},"v":1}"#,
            r#"{"case":"c-1","kind":"decided","public":{"disclosed":{"content":1,"content":0}},"v":1}"#,
            r#"{"kind":"restricted","period":"2026-H2","unit":"letters","v":1}"#,
            r#"{}"#,
            r#"[]"#,
            r#""#,
        ];
        for case in cases {
            same(case.as_bytes());
        }
        assert!(view(cases[0].as_bytes()).is_some());
        assert!(view(cases[1].as_bytes()).is_some());
        assert!(view(cases[5].as_bytes()).is_some());
        assert!(view(cases[6].as_bytes()).is_none());
        assert!(view(cases[8].as_bytes()).is_none());
    }

    /// Valid arrays are read here, whatever they hold, and the rest of the
    /// entry after them; those with an escape or a control character are
    /// left to `serde_json`, and the others refused by both.
    #[test]
    fn arrays_read_as_serde_json_does() {
        let cases: &[(&str, bool)] = &[
            (r#"{"commitments":[],"kind":"registry","v":1}"#, true),
            (r#"{"commitments":[""],"kind":"registry","v":1}"#, true),
            (r#"{"commitments":["",""],"kind":"registry","v":1}"#, true),
            (
                r#"{"commitments":["ab","cd","ef"],"kind":"registry","v":1}"#,
                true,
            ),
            (
                r#"{"commitments":["a]b","cd"],"kind":"registry","v":1}"#,
                true,
            ),
            (
                r#"{"commitments":["ab"],"x":"]","kind":"registry","v":1}"#,
                true,
            ),
            (r#"{"commitments":["a\\"],"kind":"registry","v":1}"#, false),
            (r#"{"commitments":["a\"b"],"kind":"registry","v":1}"#, false),
            (
                "{\"commitments\":[\"a\tb\"],\"kind\":\"registry\",\"v\":1}",
                false,
            ),
            (r#"{"commitments":["ab",],"kind":"registry","v":1}"#, false),
            (r#"{"commitments":[,"ab"],"kind":"registry","v":1}"#, false),
            (
                r#"{"commitments":["ab""cd"],"kind":"registry","v":1}"#,
                false,
            ),
            (
                r#"{"commitments":["ab",,"cd"],"kind":"registry","v":1}"#,
                false,
            ),
            (
                r#"{"commitments":["ab" ,"cd"],"kind":"registry","v":1}"#,
                false,
            ),
            (r#"{"commitments":["ab",1],"kind":"registry","v":1}"#, true),
            (
                r#"{"commitments":["ab",["cd"]],"kind":"registry","v":1}"#,
                true,
            ),
            (r#"{"commitments":["ab","#, false),
            (r#"{"commitments":["ab"#, false),
            (r#"{"commitments":[""#, false),
        ];
        for &(case, read) in cases {
            same(case.as_bytes());
            assert_eq!(view(case.as_bytes()).is_some(), read, "{case}");
        }
        // Escapes are valid JSON: `serde_json` reads these.
        assert!(EntryView::parse(cases[6].0.as_bytes()).is_ok());
        assert!(EntryView::parse(cases[7].0.as_bytes()).is_ok());
    }

    fn stops_naive(word: u64) -> bool {
        word.to_le_bytes()
            .iter()
            .any(|&b| b == b'"' || b == b'\\' || b < 0x20)
    }

    #[test]
    fn stops_at_exactly_the_bytes_that_end_a_plain_string() {
        for fill in [
            b'a', b'0', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ] {
            for at in 0..8 {
                for byte in 0..=255u8 {
                    let mut bytes = [fill; 8];
                    bytes[at] = byte;
                    let word = u64::from_le_bytes(bytes);
                    assert_eq!(stops(word), stops_naive(word), "{bytes:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn stops_as_a_byte_by_byte_look_does(word in proptest::num::u64::ANY) {
            proptest::prop_assert_eq!(stops(word), stops_naive(word));
        }

        #[test]
        fn stops_in_words_of_two_special_bytes(
            a in 0..8usize, x in proptest::num::u8::ANY,
            b in 0..8usize, y in proptest::num::u8::ANY,
        ) {
            let mut bytes = [b'a'; 8];
            bytes[a] = x;
            bytes[b] = y;
            let word = u64::from_le_bytes(bytes);
            proptest::prop_assert_eq!(stops(word), stops_naive(word));
        }

        /// Arrays of strings made of JSON's troublesome bytes, read as
        /// `serde_json` reads them.
        #[test]
        fn arrays_of_strings_read_as_serde_json_does(
            items in proptest::collection::vec("[ab\\]\\[\"\\\\, \t1{}]{0,6}", 0..5),
            quoted in proptest::collection::vec(proptest::bool::ANY, 5),
            join in "[, ]{1,2}",
        ) {
            let items: Vec<String> = items
                .iter()
                .zip(&quoted)
                .map(|(item, &q)| if q { format!("\"{item}\"") } else { item.clone() })
                .collect();
            let entry = format!(
                r#"{{"commitments":[{}],"kind":"registry","v":1}}"#,
                items.join(&join)
            );
            same(entry.as_bytes());
        }
    }

    #[test]
    fn every_prefix_reads_as_serde_json_does() {
        let entry = br#"{"case":"c-0123456789abcdef","commitments":{"a":"xyz","b":[1,2.5,-3e+4,true,null,{}],"c":["ab","","c]d"],"d":["ef","gh"]},"hour":"2026-07-01T10","kind":"decided","public":{"accounts":1,"accounts_abroad":0,"disclosed":{"content":2},"on_time":true,"outcome":"no_data"},"v":1}"#;
        for end in 0..entry.len() {
            same(&entry[..end]);
            let mut changed = entry.to_vec();
            for b in [b' ', b'"', b'\\', b'0', b'}', b',', 0xff] {
                changed[end] = b;
                same(&changed);
            }
        }
    }
}
