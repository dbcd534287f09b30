//! The report's three forms: JSON (the signed document), CSV (Google's
//! column layout and Writ's outcome columns, for spreadsheets) and HTML (a
//! self-contained page that embeds the JSON), and reading a report back
//! from any of them.

use crate::{Period, Report, ReportError, country_name, legal_process};

/// The id of the `<script type="application/json">` that holds the report
/// in the HTML form.
pub const SCRIPT_ID: &str = "writ-report";

/// The CSV header: Google's seven columns, then Writ's.
pub const CSV_HEADER: &[&str] = &[
    "Period Ending",
    "Country",
    "CLDR Territory Code",
    "Legal Process",
    "User Data Requests",
    "Percentage of requests where some data produced",
    "Users/Accounts Specified",
    "Content Disclosed",
    "Non-Content Only",
    "Withdrawn",
    "No Data",
    "Rejected",
    "Pending",
    "Emergency Requests",
    "Requests For Data Stored Abroad",
    "Accounts Stored Abroad",
];

/// The form of a report file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Json,
    Csv,
    Html,
}

impl Form {
    /// Guesses the form from the text.
    pub fn detect(text: &str) -> Form {
        let start = text.trim_start();
        if start.starts_with('{') {
            Form::Json
        } else if start.starts_with('<') {
            Form::Html
        } else {
            Form::Csv
        }
    }
}

/// Reads the JSON form.
pub fn from_json(text: &str) -> Result<Report, ReportError> {
    serde_json::from_str(text).map_err(|e| ReportError::Malformed(e.to_string()))
}

/// Reads the report embedded in the HTML form.
pub fn from_html(text: &str) -> Result<Report, ReportError> {
    let open = format!("<script type=\"application/json\" id=\"{SCRIPT_ID}\">");
    let start = text
        .find(&open)
        .map(|i| i + open.len())
        .ok_or_else(|| ReportError::Malformed(format!("no script `#{SCRIPT_ID}` in the page")))?;
    let len = text
        .get(start..)
        .and_then(|rest| rest.find("</script>"))
        .ok_or_else(|| ReportError::Malformed("unterminated report script".into()))?;
    let json = text
        .get(start..start + len)
        .ok_or_else(|| ReportError::Malformed("unterminated report script".into()))?;
    from_json(json)
}

/// The JSON text embedded in the page: `<` escaped so that no string in the
/// report can close the script element.
pub(crate) fn script_json(report: &Report) -> Result<String, ReportError> {
    serde_json::to_string(report)
        .map(|s| s.replace('<', "\\u003c"))
        .map_err(|e| ReportError::Malformed(e.to_string()))
}

fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

fn csv_line(out: &mut String, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push_str("\r\n");
}

/// A percentage with two decimals, from integers (no floating point).
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return String::new();
    }
    let hundredths = (u128::from(part) * 10_000 + u128::from(whole) / 2) / u128::from(whole);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// The CSV form: one line per country and legal process (`docs/formats.md`
/// names them), data requests first, then preservation.
pub fn to_csv(report: &Report) -> Result<String, ReportError> {
    let period = Period::parse(&report.period)?;
    let ending = period.last_day();
    let mut out = String::new();
    csv_line(
        &mut out,
        &CSV_HEADER
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>(),
    );
    let country = |c: &Option<String>| match c {
        Some(code) => (
            country_name(code).unwrap_or(code.as_str()).to_owned(),
            code.clone(),
        ),
        None => ("Unknown".to_owned(), String::new()),
    };
    // `Other` gathers several instruments: merge rows by legal process.
    let mut merged: Vec<(Option<String>, &str, crate::Counts)> = Vec::new();
    for row in &report.figures.requests {
        let process = legal_process(&row.instrument);
        match merged
            .iter_mut()
            .find(|(c, p, _)| *c == row.country && *p == process)
        {
            Some((_, _, counts)) => add_counts(counts, &row.counts),
            None => merged.push((row.country.clone(), process, row.counts.clone())),
        }
    }
    for (c, process, n) in &merged {
        let (name, code) = country(c);
        csv_line(
            &mut out,
            &[
                ending.clone(),
                name,
                code,
                (*process).to_owned(),
                n.requests.to_string(),
                percent(n.outcomes.produced(), n.requests),
                n.accounts_specified.to_string(),
                n.outcomes.content_disclosed.to_string(),
                n.outcomes.non_content_only.to_string(),
                n.outcomes.withdrawn.to_string(),
                n.outcomes.no_data.to_string(),
                n.outcomes.rejected.to_string(),
                n.outcomes.pending.to_string(),
                n.emergency.to_string(),
                n.abroad_requests.to_string(),
                n.accounts_abroad.to_string(),
            ],
        );
    }
    for p in &report.figures.preservation {
        let (name, code) = country(&p.country);
        csv_line(
            &mut out,
            &[
                ending.clone(),
                name,
                code,
                legal_process(&p.instrument).to_owned(),
                p.requests.to_string(),
                String::new(),
                p.accounts_specified.to_string(),
                String::new(),
                String::new(),
                p.withdrawn.to_string(),
                p.no_data.to_string(),
                p.rejected.to_string(),
                p.pending.to_string(),
                String::new(),
                String::new(),
                String::new(),
            ],
        );
    }
    Ok(out)
}

fn add_counts(a: &mut crate::Counts, b: &crate::Counts) {
    a.requests += b.requests;
    a.accounts_specified += b.accounts_specified;
    a.accounts += b.accounts;
    a.emergency += b.emergency;
    a.abroad_requests += b.abroad_requests;
    a.accounts_abroad += b.accounts_abroad;
    a.outcomes.content_disclosed += b.outcomes.content_disclosed;
    a.outcomes.non_content_only += b.outcomes.non_content_only;
    a.outcomes.withdrawn += b.outcomes.withdrawn;
    a.outcomes.no_data += b.outcomes.no_data;
    a.outcomes.rejected += b.outcomes.rejected;
    a.outcomes.pending += b.outcomes.pending;
    a.on_time.met += b.on_time.met;
    a.on_time.missed += b.on_time.missed;
}

/// Checks that a CSV file is the rendering of `report`.
pub fn check_csv(csv: &str, report: &Report) -> Result<(), ReportError> {
    let expected = to_csv(report)?;
    if csv == expected {
        return Ok(());
    }
    let line = csv
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| csv.lines().count().min(expected.lines().count()));
    Err(ReportError::CsvMismatch(line + 1))
}

/// The HTML form.
pub fn to_html(report: &Report) -> Result<String, ReportError> {
    crate::html::page(report)
}

/// The HTML form as a site serves it: its navigation and the real verify
/// command with the log's prefix and key.
pub fn to_html_in(report: &Report, site: &crate::html::Site) -> Result<String, ReportError> {
    crate::html::page_in(report, Some(site))
}
