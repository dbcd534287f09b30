//! Instants as the formats use them.
//!
//! Writ reads any RFC 3339 timestamp (any offset, fractions of a second) and
//! compares them as instants; it writes UTC to the second,
//! `YYYY-MM-DDTHH:MM:SSZ` (`docs/formats.md`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant on the UTC time line.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

/// A timestamp that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid timestamp `{input}`: expected RFC 3339, for example `2026-11-28T12:00:00Z`")]
pub struct TimestampError {
    input: String,
}

const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// Reads an RFC 3339 timestamp with any offset.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        let err = || TimestampError {
            input: input.to_owned(),
        };
        // RFC 3339 needs a full date and time with an offset; jiff's parser also
        // takes a few Temporal extensions (time zone annotations), which we refuse.
        if input.len() < 20 || input.contains('[') || !input.is_ascii() {
            return Err(err());
        }
        let bytes = input.as_bytes();
        if !matches!(bytes[10], b'T' | b't') || bytes[13] != b':' || bytes[16] != b':' {
            return Err(err());
        }
        // RFC 3339, section 5.6: the offset is `Z` or `+HH:MM` / `-HH:MM`
        // with an hour up to 23 and a minute up to 59 (jiff reads wider
        // offsets, up to 25:59:59, and offsets with seconds).
        if !input.ends_with(['Z', 'z']) {
            let offset = &bytes[bytes.len() - 6..];
            let digits = |a: u8, b: u8| -> Option<u8> {
                (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'))
            };
            let well_formed = matches!(offset[0], b'+' | b'-')
                && offset[3] == b':'
                && digits(offset[1], offset[2]).is_some_and(|h| h <= 23)
                && digits(offset[4], offset[5]).is_some_and(|m| m <= 59);
            if !well_formed {
                return Err(err());
            }
        }
        jiff::Timestamp::from_str(input)
            .map(Self)
            .map_err(|_| err())
    }

    /// The year of the instant in UTC.
    pub fn year(self) -> i16 {
        jiff::tz::Offset::UTC.to_datetime(self.0).year()
    }

    /// The current instant.
    pub fn now() -> Self {
        Self(jiff::Timestamp::now())
    }

    /// Seconds since the Unix epoch (rounded towards the past).
    pub fn as_second(self) -> i64 {
        self.0.as_second()
    }

    /// Nanoseconds since the Unix epoch: the whole instant, as Writ compares
    /// it (`docs/instants-and-identifiers.md`).
    pub fn as_nanosecond(self) -> i128 {
        self.0.as_nanosecond()
    }

    /// The instant `nanoseconds` after the Unix epoch, if it is representable.
    pub fn from_nanosecond(nanoseconds: i128) -> Option<Self> {
        jiff::Timestamp::from_nanosecond(nanoseconds).ok().map(Self)
    }

    /// The instant `seconds` after the Unix epoch, if it is representable.
    pub fn from_second(seconds: i64) -> Option<Self> {
        jiff::Timestamp::from_second(seconds).ok().map(Self)
    }

    /// This instant moved by a number of seconds (saturating at the ends of the
    /// representable range, which lie far outside any legal deadline).
    pub fn plus_seconds(self, seconds: i64) -> Self {
        let span = jiff::SignedDuration::from_secs(seconds);
        match self.0.checked_add(span) {
            Ok(t) => Self(t),
            Err(_) if seconds >= 0 => Self(jiff::Timestamp::MAX),
            Err(_) => Self(jiff::Timestamp::MIN),
        }
    }

    pub fn plus_minutes(self, minutes: i64) -> Self {
        self.plus_seconds(minutes.saturating_mul(60))
    }

    pub fn plus_hours(self, hours: i64) -> Self {
        self.plus_seconds(hours.saturating_mul(3_600))
    }

    /// Days of 24 hours: in UTC every calendar day has exactly that length.
    pub fn plus_days(self, days: i64) -> Self {
        self.plus_seconds(days.saturating_mul(SECONDS_PER_DAY))
    }

    /// This instant advanced by calendar months in UTC, at the same time of
    /// day; where that day does not exist in the target month, the last day of
    /// that month is used (31 August + 1 month is 30 September).
    pub fn plus_months(self, months: i32) -> Self {
        let utc = jiff::tz::Offset::UTC;
        let civil = utc.to_datetime(self.0);
        match civil
            .checked_add(jiff::Span::new().months(months))
            .and_then(|dt| utc.to_timestamp(dt))
        {
            Ok(t) => Self(t),
            Err(_) if months >= 0 => Self(jiff::Timestamp::MAX),
            Err(_) => Self(jiff::Timestamp::MIN),
        }
    }

    /// The start of this instant's UTC hour.
    pub fn floor_hour(self) -> Self {
        Self::from_second(self.as_second().div_euclid(3_600) * 3_600).unwrap_or(self)
    }

    /// The start of this instant's UTC day.
    pub fn floor_day(self) -> Self {
        Self::from_second(self.as_second().div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY)
            .unwrap_or(self)
    }

    /// The UTC calendar date, `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        self.0.strftime("%Y-%m-%d").to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// RFC 3339 as Writ reads it: a date in the years 1900 to 9999 (days up
/// to the 28th, which every month has: the pattern cannot know the length
/// of a month), a time with an optional fraction of up to nine digits, and
/// `Z` or an offset up to 23:59.
#[cfg(feature = "schema")]
pub const TIMESTAMP_PATTERN: &str = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An RFC 3339 date-time; Writ writes UTC to the second.",
            "type": "string",
            "format": "date-time",
            "pattern": TIMESTAMP_PATTERN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn offsets_are_those_of_rfc_3339() {
        for bad in [
            "2026-11-28T12:00:00+25:00",
            "2026-11-28T12:00:00+24:00",
            "2026-11-28T12:00:00-23:60",
            "2026-11-28T12:00:00+01:00:00",
            "2026-11-28T12:00:00+0100",
            "2026-11-28T12:00:00",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} was read");
        }
        assert_eq!(
            t("2026-11-28T12:00:00+23:59").to_string(),
            "2026-11-27T12:01:00Z"
        );
        assert_eq!(t("2026-11-28T12:00:00-00:00"), t("2026-11-28T12:00:00z"));
    }

    #[test]
    fn reads_offsets_and_fractions_and_writes_utc_seconds() {
        assert_eq!(
            t("2026-11-28T13:00:00.75+01:00").to_string(),
            "2026-11-28T12:00:00Z"
        );
        assert_eq!(t("2026-11-28T12:00:00Z"), t("2026-11-28T07:00:00-05:00"));
    }

    #[test]
    fn instants_keep_nanoseconds_and_compare_exactly() {
        let now = t("2026-11-28T12:00:00Z");
        let half = t("2026-11-28T12:00:00.5Z");
        assert!(half > now);
        assert_eq!(half.as_nanosecond() - now.as_nanosecond(), 500_000_000);
        assert!(t("2026-11-28T12:00:00.000000001Z") > now);
        assert_eq!(t("2026-11-28T13:00:00.5+01:00"), half);
        assert_eq!(Timestamp::from_nanosecond(half.as_nanosecond()), Some(half));
        // Calendar months and days keep the fraction.
        assert_eq!(
            t("2026-08-28T12:00:00.5Z").plus_months(3),
            t("2026-11-28T12:00:00.5Z")
        );
        assert_eq!(half.plus_days(1), t("2026-11-29T12:00:00.5Z"));
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "2026-11-28",
            "2026-02-30T00:00:00Z",
            "2026-11-28T12:00:00",
            "yesterday",
            "2026-11-28T12:00:00Z[Europe/Paris]",
            "2026-11-28 12:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn calendar_months_clamp_to_the_last_day() {
        assert_eq!(
            t("2026-11-30T10:00:00Z").plus_months(3).to_string(),
            "2027-02-28T10:00:00Z"
        );
        assert_eq!(
            t("2027-11-30T10:00:00Z").plus_months(3).to_string(),
            "2028-02-29T10:00:00Z"
        );
        assert_eq!(
            t("2026-08-15T23:30:00Z").plus_months(3).to_string(),
            "2026-11-15T23:30:00Z"
        );
    }

    #[test]
    fn floors() {
        let x = t("2026-11-28T12:34:56Z");
        assert_eq!(x.floor_hour().to_string(), "2026-11-28T12:00:00Z");
        assert_eq!(x.floor_day().to_string(), "2026-11-28T00:00:00Z");
        assert_eq!(x.date_string(), "2026-11-28");
    }
}
