//! The HTML form: one self-contained page, readable without JavaScript,
//! with inline CSS and inline SVG charts, and the signed JSON report
//! embedded for machines.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::render::{SCRIPT_ID, script_json};
use crate::{Counts, OnTime, Outcomes, Report, ReportError, country_name, legal_process};

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1b1f24;background:#fff;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}th,td{border-bottom:1px solid #d0d7de;padding:.25rem .4rem;text-align:right}
th:first-child,td:first-child,th.l,td.l{text-align:left}thead th{background:#f6f8fa}
.meta{color:#57606a;font-size:.9rem}.meta code{word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
svg text{font-family:inherit;font-size:12px;fill:#1b1f24}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#57606a}
nav.site{background:#1f3a5f;color:#fff;margin:-1rem -1.5rem 1rem;padding:.6rem 1.5rem;display:flex;gap:1rem;flex-wrap:wrap}nav.site a{color:#fff}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;white-space:pre-wrap;word-break:break-all}
a:focus{outline:3px solid #f59e0b;outline-offset:1px}
";

/// Outcome names and colours, in the order of the counting rule. A colour
/// means one thing on every chart and says nothing of good or bad: blues
/// for data that went out (dark for content), purple for refusals, greys
/// for cases without an answer; requests are slate, deadlines teal and
/// orange, colours no outcome uses.
const OUTCOMES: [(&str, &str); 6] = [
    ("Content disclosed", "#0a3069"),
    ("Non-content only", "#54aeff"),
    ("Withdrawn", "#8c959f"),
    ("No data", "#c69026"),
    ("Rejected", "#8250df"),
    ("Pending", "#d0d7de"),
];
/// Requests (by country).
const REQUESTS: &str = "#424a53";
/// Deadlines met, and late.
const ON_TIME: &str = "#1b7c83";
const LATE: &str = "#bc4c00";

/// Where a page is served: the site's navigation and the log's prefix and
/// verifier key, so that the verify command can be pasted as shown.
#[derive(Clone, Debug, Default)]
pub struct Site {
    /// (label, href) of each link of the site's navigation.
    pub nav: Vec<(String, String)>,
    /// The log's URL prefix, e.g. `https://writ.example/log`.
    pub log_url: String,
    /// The log's verifier key (`origin+hash+base64`).
    pub vkey: String,
    /// The witnesses that cosign the log's checkpoints (their verifier
    /// keys) and how many of them must; empty when the log has none.
    pub witnesses: Vec<String>,
    pub quorum: usize,
}

fn outcome_values(o: &Outcomes) -> [u64; 6] {
    [
        o.content_disclosed,
        o.non_content_only,
        o.withdrawn,
        o.no_data,
        o.rejected,
        o.pending,
    ]
}

fn country_label(code: &Option<String>) -> String {
    match code {
        Some(c) => country_name(c).unwrap_or(c).to_owned(),
        None => "Unknown".to_owned(),
    }
}

fn pct(part: u64, whole: u64) -> String {
    match (part * 1000 + whole / 2).checked_div(whole) {
        None => "–".to_owned(),
        Some(tenths) => format!("{}.{} %", tenths / 10, tenths % 10),
    }
}

/// The segments of one 100 % stacked bar: (y, height, outcome index, value).
fn segments(values: &[u64; 6], top: u64, height: u64) -> Vec<(u64, u64, usize, u64)> {
    let total: u64 = values.iter().sum();
    let mut y = top;
    let mut out = Vec::new();
    for (k, v) in values.iter().enumerate() {
        if let Some(h) = (v * height).checked_div(total)
            && *v > 0
        {
            out.push((y, h.max(1), k, *v));
            y += h;
        }
    }
    out
}

/// Requests by country: horizontal bars.
fn by_country(report: &Report) -> Markup {
    let mut countries: Vec<(String, u64)> = Vec::new();
    for row in &report.figures.requests {
        let label = country_label(&row.country);
        match countries.iter_mut().find(|(c, _)| *c == label) {
            Some((_, n)) => *n += row.counts.requests,
            None => countries.push((label, row.counts.requests)),
        }
    }
    countries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    countries.truncate(15);
    let max = countries.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let bar_h = 22u64;
    let height = bar_h * countries.len() as u64 + 10;
    let (label_w, chart_w) = (170u64, 430u64);
    html! {
        figure {
            svg role="img" aria-label="Requests by country" width="100%" viewBox={"0 0 680 " (height)} {
                @for (i, (name, n)) in countries.iter().enumerate() {
                    @let y = i as u64 * bar_h + 4;
                    @let w = n * chart_w / max;
                    text x=(label_w - 6) y=(y + 15) text-anchor="end" { (name) }
                    rect x=(label_w) y=(y) width=(w) height=(bar_h - 6) fill=(REQUESTS) {}
                    text x=(label_w + w + 6) y=(y + 15) { (n) }
                }
            }
            figcaption { "Requests for data by issuing country (preservation apart)." }
        }
    }
}

fn legend() -> Markup {
    html! {
        p.legend {
            @for (name, colour) in OUTCOMES {
                span { i style={"background:" (colour)} {} (name) }
            }
        }
    }
}

/// Outcome mix by month: 100 % stacked bars.
fn outcome_mix(report: &Report) -> Markup {
    let months = &report.figures.months;
    let (left, bar_w, gap, chart_h) = (40u64, 70u64, 20u64, 200u64);
    let width = left + (bar_w + gap) * months.len() as u64 + 10;
    html! {
        figure {
            svg role="img" aria-label="Outcome mix by month" width="100%" viewBox={"0 0 " (width) " " (chart_h + 40)} {
                text x="0" y="12" { "100 %" }
                text x="0" y=(chart_h + 4) { "0 %" }
                @for (i, m) in months.iter().enumerate() {
                    @let x = left + i as u64 * (bar_w + gap);
                    @let values = outcome_values(&m.outcomes);
                    @let total: u64 = values.iter().sum();
                    @if total == 0 {
                        rect x=(x) y="4" width=(bar_w) height=(chart_h) fill="none" stroke="#d0d7de" {}
                    }
                    @for (y, h, k, v) in segments(&values, 4, chart_h) {
                        rect x=(x) y=(y) width=(bar_w) height=(h) fill=(OUTCOMES[k].1) {
                            title { (OUTCOMES[k].0) ": " (v) }
                        }
                    }
                    text x=(x + bar_w / 2) y=(chart_h + 20) text-anchor="middle" { (m.month) }
                    text x=(x + bar_w / 2) y=(chart_h + 35) text-anchor="middle" { (total) }
                }
            }
            (legend())
            figcaption { "Outcome of the requests received each month, as the log stands at the checkpoint; the number under each bar is the month's requests." }
        }
    }
}

/// Deadlines met and missed by month.
fn deadlines(report: &Report) -> Markup {
    let months = &report.figures.months;
    let (left, bar_w, gap, chart_h) = (40u64, 70u64, 20u64, 160u64);
    let width = left + (bar_w + gap) * months.len() as u64 + 10;
    let max = months
        .iter()
        .map(|m| m.on_time.met + m.on_time.missed)
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        figure {
            svg role="img" aria-label="Deadlines met by month" width="100%" viewBox={"0 0 " (width) " " (chart_h + 40)} {
                @for (i, m) in months.iter().enumerate() {
                    @let x = left + i as u64 * (bar_w + gap);
                    @let met_h = m.on_time.met * chart_h / max;
                    @let missed_h = m.on_time.missed * chart_h / max;
                    @let base = chart_h + 4;
                    rect x=(x) y=(base - met_h) width=(bar_w) height=(met_h) fill=(ON_TIME) {
                        title { "met: " (m.on_time.met) }
                    }
                    rect x=(x) y=(base - met_h - missed_h) width=(bar_w) height=(missed_h) fill=(LATE) {
                        title { "missed: " (m.on_time.missed) }
                    }
                    text x=(x + bar_w / 2) y=(chart_h + 20) text-anchor="middle" { (m.month) }
                    text x=(x + bar_w / 2) y=(chart_h + 35) text-anchor="middle" { (pct(m.on_time.met, m.on_time.met + m.on_time.missed)) }
                }
            }
            p.legend { span { i style={"background:" (ON_TIME)} {} "On time" } span { i style={"background:" (LATE)} {} "Late" } }
            figcaption { "Answered requests by month received: answered by the first decision's deadline (on time) or late; the percentage met is under each bar." }
        }
    }
}

fn outcome_cells(o: &Outcomes) -> Markup {
    html! {
        @for v in outcome_values(o) { td { (v) } }
    }
}

fn on_time_cell(o: &OnTime) -> Markup {
    html! { td { (pct(o.met, o.met + o.missed)) } }
}

fn counts_header() -> Markup {
    html! {
        th { "Requests" } th { "Accounts specified" }
        @for (name, _) in OUTCOMES { th { (name) } }
        th { "Deadlines met" }
    }
}

fn counts_cells(c: &Counts) -> Markup {
    html! {
        td { (c.requests) } td { (c.accounts_specified) } (outcome_cells(&c.outcomes)) (on_time_cell(&c.on_time))
    }
}

fn band(b: &Option<crate::Band>) -> String {
    match b {
        Some(b) => format!("{}–{}", b.from, b.to),
        None => "not yet published".to_owned(),
    }
}

/// How the figures are computed, for the public (`docs/formats.md`,
/// "Transparency report").
fn method() -> Markup {
    html! {
        h2 #method { "How these figures are computed" }
        p { "Every step of every request is an entry in a public, append-only log. This page counts those entries and nothing else:" }
        ul {
            li { "A request counts in the half-year in which the order was received, under the country of the agency whose key signed it (not the country the order claims), and under its legal process." }
            li { "Each request has one outcome, the first that holds when the report was computed: " b { "content disclosed" } " (a package held content), "
                 b { "non-content only" } " (something else was released, such as subscriber data), " b { "withdrawn" } " by the agency, "
                 b { "no data" } " (no account held data), " b { "rejected" } " (refused by the rules or in review), or " b { "pending" } " (not yet answered)." }
            li { "A deadline is met when the request was answered by the deadline of its first decision." }
            li { "Preservation requests freeze data and disclose nothing; they are counted apart. National security letters are published only in bands of 500, as the law requires, after their half-year closes." }
            li { "Entries of requests under a secrecy order are published once the secrecy lapses or the half-year closes, so recent figures can still grow." }
        }
        p { "The report is signed with the log's key. Anyone can recompute every figure from the log and compare." }
    }
}

/// The verify command: real values on a served page, a description in a
/// file read on its own.
fn verify_command(report: &Report, site: Option<&Site>) -> Markup {
    match site {
        Some(site) => html! {
            p { "To recompute and check this report yourself:" }
            pre { code #verify { "curl -s -o report.json '" (site.log_url.trim_end_matches("/log")) "/transparency.json?period=" (report.period) "'\n"
                "writ report verify report.json --url " (site.log_url) " --vkey '" (site.vkey) "'"
                @for w in &site.witnesses { " \\\n    --witness '" (w) "'" }
                @if !site.witnesses.is_empty() { " --quorum " (site.quorum) } } }
            @if !site.witnesses.is_empty() {
                p #witnesses { "The log's checkpoints are cosigned by independent witnesses, each of which checks that a new checkpoint extends the one it saw before; the command above refuses a checkpoint that fewer than " (site.quorum) " of these " (site.witnesses.len()) " have cosigned:" }
                ul { @for w in &site.witnesses { li { code { (w) } } } }
            }
        },
        None => html! {
            p { "To recompute and check this report yourself, run " code { "writ report verify" }
                " on this file with " code { "--url" } " set to the log's address and " code { "--vkey" }
                " to the log's verifier key, both published on the log's status page." }
        },
    }
}

/// The page, read on its own (a file).
pub(crate) fn page(report: &Report) -> Result<String, ReportError> {
    page_in(report, None)
}

/// The page as a site serves it: with its navigation and the real verify
/// command.
pub(crate) fn page_in(report: &Report, site: Option<&Site>) -> Result<String, ReportError> {
    let f = &report.figures;
    let t = &f.totals;
    let json = script_json(report)?;
    let title = format!("Transparency report {}", report.period);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                @if let Some(site) = site {
                    nav.site aria-label="Site" { strong { "Writ" } @for (label, href) in &site.nav { a href=(href) { (label) } } }
                }
                h1 { (title) }
                p.meta {
                    "Computed from the public fields of the transparency log "
                    code { (report.checkpoint.origin) }
                    " up to its checkpoint of size " b { (report.checkpoint.size) }
                    " with root " code { (report.checkpoint.root) }
                    ". " a href="#method" { "How the figures are computed" } "."
                }
                div.cards {
                    div.card { b { (t.requests) } "requests for data" }
                    div.card { b { (t.accounts_specified) } "accounts specified" }
                    div.card { b { (pct(t.outcomes.produced(), t.requests)) } "with some data produced" }
                    div.card { b { (t.emergency) } "emergency requests" }
                    div.card { b { (pct(t.on_time.met, t.on_time.met + t.on_time.missed)) } "deadlines met" }
                }
                h2 { "Requests by country" }
                (by_country(report))
                h2 { "Outcomes over time" }
                (outcome_mix(report))
                h2 { "Deadlines" }
                (deadlines(report))
                h2 { "By country and legal process" }
                table {
                    thead { tr { th { "Country" } th.l { "Legal process" } (counts_header()) } }
                    tbody {
                        @for row in &f.requests {
                            tr {
                                td { (country_label(&row.country)) }
                                td.l { (legal_process(&row.instrument)) }
                                (counts_cells(&row.counts))
                            }
                        }
                        tr { th { "All" } th.l {} (counts_cells(t)) }
                    }
                }
                h2 { "Emergency requests" }
                table {
                    thead { tr { (counts_header()) } }
                    tbody { tr { (counts_cells(&f.emergency)) } }
                }
                h2 { "Data stored outside the issuing country" }
                p {
                    (t.abroad_requests) " requests (" (pct(t.abroad_requests, t.requests)) ") reached "
                    (t.accounts_abroad) " accounts whose data is stored outside the issuing country."
                }
                h2 { "Preservation requests" }
                p { "Preservation freezes data and discloses nothing; it is reported apart." }
                table {
                    thead { tr {
                        th { "Country" } th.l { "Legal process" } th { "Requests" } th { "Accounts specified" }
                        th { "Preserved" } th { "Accounts preserved" } th { "Withdrawn" } th { "No data" }
                        th { "Rejected" } th { "Pending" }
                    } }
                    tbody {
                        @for p in &f.preservation {
                            tr {
                                td { (country_label(&p.country)) } td.l { (legal_process(&p.instrument)) }
                                td { (p.requests) } td { (p.accounts_specified) } td { (p.preserved) }
                                td { (p.accounts_preserved) } td { (p.withdrawn) } td { (p.no_data) }
                                td { (p.rejected) } td { (p.pending) }
                            }
                        }
                    }
                }
                h2 { "National security letters" }
                p { "Reported in bands of 500 (50 U.S.C. § 1874(a)(2)), counted from the log's restricted entries for the period." }
                table {
                    thead { tr { th { "Unit" } th { "Band" } } }
                    tbody {
                        tr { td { "Letters" } td { (band(&f.national_security_letters.letters)) } }
                        tr { td { "Accounts (selectors)" } td { (band(&f.national_security_letters.selectors)) } }
                        tr { td { "Later events" } td { (band(&f.national_security_letters.events)) } }
                    }
                }
                (method())
                h2 { "Check it" }
                (verify_command(report, site))
                p.meta { "Entries read: " (f.entries) ". Signature (Ed25519, log key): " code { (report.signature.as_deref().unwrap_or("unsigned")) } }
                script type="application/json" id=(SCRIPT_ID) { (PreEscaped(json)) }
            }
        }
    };
    Ok(markup.into_string())
}
