//! Half-year reporting periods, `2026-H2`.

use std::fmt;

use crate::ReportError;

/// A half-year: January to June (`H1`) or July to December (`H2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: u16,
    second: bool,
}

impl Period {
    /// Reads `YYYY-H1` or `YYYY-H2`.
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let bad = || ReportError::Period(text.to_owned());
        let (year, half) = text.split_once("-H").ok_or_else(bad)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: u16 = year.parse().map_err(|_| bad())?;
        let second = match half {
            "1" => false,
            "2" => true,
            _ => return Err(bad()),
        };
        Ok(Self { year, second })
    }

    /// The period holding an RFC 3339 UTC timestamp or a `YYYY-MM...` date.
    pub fn of(timestamp: &str) -> Result<Self, ReportError> {
        let bad = || ReportError::Period(timestamp.to_owned());
        let year: u16 = timestamp
            .get(..4)
            .and_then(|y| y.parse().ok())
            .ok_or_else(bad)?;
        let month: u8 = timestamp
            .get(5..7)
            .and_then(|m| m.parse().ok())
            .ok_or_else(bad)?;
        Ok(Self {
            year,
            second: month > 6,
        })
    }

    /// The first instant, `2026-07-01T00:00:00Z`.
    pub fn start(&self) -> String {
        format!("{:04}-{}-01T00:00:00Z", self.year, self.first_month())
    }

    /// The first instant after the period.
    pub fn end(&self) -> String {
        if self.second {
            format!("{:04}-01-01T00:00:00Z", self.year + 1)
        } else {
            format!("{:04}-07-01T00:00:00Z", self.year)
        }
    }

    /// The last day, as Google's `Period Ending` column has it.
    pub fn last_day(&self) -> String {
        if self.second {
            format!("{:04}-12-31", self.year)
        } else {
            format!("{:04}-06-30", self.year)
        }
    }

    /// The six months, `2026-07` to `2026-12`.
    pub fn months(&self) -> Vec<String> {
        (0..6)
            .map(|m| format!("{:04}-{:02}", self.year, self.first_index() + m))
            .collect()
    }

    fn first_index(&self) -> u8 {
        if self.second { 7 } else { 1 }
    }

    fn first_month(&self) -> &'static str {
        if self.second { "07" } else { "01" }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-H{}", self.year, if self.second { 2 } else { 1 })
    }
}
