//! The response letter: what the provider answers an agency about one of
//! its cases, as a page it can print or file (`GET /v1/cases/{id}/letter`,
//! `GET /portal/cases/{id}/letter`; docs/http.md, "Response letters").
//!
//! It says what was produced (per target and category, the package's
//! SHA-256 and size), what was refused or not released and why (each
//! reason's message and its legal citation), what is still pending, and how
//! to check it against the public log. It speaks only of the identifiers the
//! agency sent: an order refused as a whole names no account and says
//! nothing about whether any exists.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use writ_gateway::CaseView;
use writ_gateway::read::{AgencyPair, agency_pairs};
use writ_model::Timestamp;
use writ_store::PackageRow;

const STYLE: &str = "body{font:11pt/1.45 Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #999}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:700}dd{margin:0}\
code,pre{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}pre{white-space:pre-wrap}\
@media print{a{color:inherit;text-decoration:none}}";

/// Where the letter points for checking: the log's address and key.
pub(crate) struct LogRef {
    pub url: String,
    pub vkey: String,
}

/// A part of a section.
pub(crate) enum Block {
    Para(String),
    /// Monospaced text that must be copied exactly (a hash, a command).
    Code(String),
    Table {
        head: Vec<&'static str>,
        rows: Vec<Vec<String>>,
    },
}

pub(crate) struct Section {
    pub id: &'static str,
    pub heading: &'static str,
    pub blocks: Vec<Block>,
}

/// A document's content (this letter, a certificate of authenticity),
/// rendered as HTML ([`html_of`]) and PDF ([`pdf_of`]).
pub(crate) struct Letter {
    pub title: String,
    pub facts: Vec<(&'static str, String)>,
    pub sections: Vec<Section>,
}

pub(crate) fn when(t: Timestamp) -> String {
    t.to_string().replacen('T', " ", 1).replace('Z', " UTC")
}

pub(crate) fn when_second(s: i64) -> String {
    Timestamp::from_second(s).map(when).unwrap_or_default()
}

fn letter(
    c: &CaseView,
    package: Option<&PackageRow>,
    log: Option<&LogRef>,
    now: Timestamp,
) -> Letter {
    let d = &c.decision;
    let pairs = agency_pairs(c.status, d, package);
    let rows =
        |want: fn(&AgencyPair) -> bool, last: fn(&AgencyPair) -> String| -> Vec<Vec<String>> {
            pairs
                .iter()
                .filter(|(_, st)| want(st))
                .map(|(p, st)| vec![p.target.clone(), p.category.label().to_owned(), last(st)])
                .collect()
        };
    let released = rows(
        |st| matches!(st, AgencyPair::Released { .. }),
        |st| match st {
            AgencyPair::Released { generation } => generation.to_string(),
            _ => String::new(),
        },
    );
    let refused = rows(
        |st| matches!(st, AgencyPair::NotReleased | AgencyPair::NoData),
        |st| st.label().to_owned(),
    );
    let pending = rows(
        |st| matches!(st, AgencyPair::Held | AgencyPair::Sealing),
        |st| st.label().to_owned(),
    );

    let mut facts = vec![
        ("Your reference", c.reference.clone()),
        ("Our case", c.case.clone()),
        ("Received", when(c.received_at)),
        ("Status", c.status.label().to_owned()),
        ("Decision", d.outcome.label().to_owned()),
        ("Answer due", when(d.due_at)),
    ];
    if let Some(t) = d.preserve_until {
        facts.push(("Preserved until", when(t)));
    }
    facts.push(("Letter written", when(now)));

    let produced = match package {
        Some(p) if !released.is_empty() => vec![
            Block::Para(format!(
                "Package {} holds the records below, sealed to your agency's registered recipient key (age format). Its SHA-256, over the file as you download it, is:",
                p.generation
            )),
            Block::Code(p.sha256.clone()),
            Block::Para(format!(
                "{} bytes; sealed {}; downloadable until {}.",
                p.size,
                when_second(p.created_at),
                when_second(p.expires_at)
            )),
            Block::Table {
                head: vec!["Target", "Category", "Package"],
                rows: released,
            },
        ],
        _ => vec![Block::Para("Nothing has been produced.".into())],
    };
    let refused = if d.decisions.is_empty() {
        vec![Block::Para(
            "The request was refused as a whole, for the reasons below; no record was searched for or produced.".into(),
        )]
    } else if refused.is_empty() {
        vec![Block::Para("Nothing.".into())]
    } else {
        vec![Block::Table {
            head: vec!["Target", "Category", "Answer"],
            rows: refused,
        }]
    };
    let pending = if pending.is_empty() {
        vec![Block::Para("Nothing.".into())]
    } else {
        vec![
            Block::Para("These are decided but not yet released: they wait for the provider's review (two people for content) or for sealing. You will be told when a package is ready.".into()),
            Block::Table {
                head: vec!["Target", "Category", "State"],
                rows: pending,
            },
        ]
    };
    let reasons = if d.reasons.is_empty() {
        vec![Block::Para("No rule limited this request.".into())]
    } else {
        vec![Block::Table {
            head: vec!["Applies to", "Reason", "Legal basis"],
            rows: d
                .reasons
                .iter()
                .map(|r| {
                    let mut to = r
                        .target
                        .clone()
                        .unwrap_or_else(|| "the whole request".into());
                    if let Some(cat) = r.category {
                        to = format!("{to}, {}", cat.label());
                    }
                    vec![to, r.message.clone(), r.citation.clone()]
                })
                .collect(),
        }]
    };
    let mut check = vec![Block::Para(
        "Every step of this case (its receipt, the decision, each release) is an entry of our public transparency log, under the case id above. The log is append-only; anyone can check that it has not been rewritten:".into(),
    )];
    if let Some(log) = log {
        check.push(Block::Code(format!(
            "writ log verify --url {} --vkey '{}'",
            log.url, log.vkey
        )));
    }
    check.push(Block::Para(
        "The package's SHA-256 above is the one committed to in the case's disclosure entry."
            .into(),
    ));
    Letter {
        title: format!("Response to your request {}", c.reference),
        facts,
        sections: vec![
            Section {
                id: "produced",
                heading: "What was produced",
                blocks: produced,
            },
            Section {
                id: "refused",
                heading: "What was refused or not produced",
                blocks: refused,
            },
            Section {
                id: "pending",
                heading: "Still pending",
                blocks: pending,
            },
            Section {
                id: "reasons",
                heading: "Reasons",
                blocks: reasons,
            },
            Section {
                id: "check",
                heading: "How to check this answer",
                blocks: check,
            },
        ],
    }
}

/// A document as an HTML page.
pub(crate) fn html_of(l: &Letter) -> String {
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (l.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (l.title) }
                dl { @for (k, v) in &l.facts { dt { (k) } dd { (v) } } }
                @for s in &l.sections {
                    section id=(s.id) {
                        h2 { (s.heading) }
                        @for b in &s.blocks { @match b {
                            Block::Para(t) => p { (t) },
                            Block::Code(t) => pre { code { (t) } },
                            Block::Table { head, rows } => table {
                                thead { tr { @for h in head { th { (h) } } } }
                                tbody { @for r in rows { tr { @for cell in r { td { (cell) } } } } }
                            },
                        } }
                    }
                }
            }
        }
    };
    markup.into_string()
}

/// A document as a PDF (A4, the standard Helvetica and Courier fonts, so
/// that its text can be extracted and searched).
pub(crate) fn pdf_of(l: &Letter) -> Vec<u8> {
    let mut w = PdfText::default();
    w.line(Font::Bold, 14.0, &l.title);
    w.gap();
    for (k, v) in &l.facts {
        w.wrapped(Font::Regular, 10.0, &format!("{k}: {v}"));
    }
    for s in &l.sections {
        w.gap();
        w.line(Font::Bold, 12.0, s.heading);
        for b in &s.blocks {
            match b {
                Block::Para(t) => w.wrapped(Font::Regular, 10.0, t),
                Block::Code(t) => w.wrapped(Font::Mono, 9.0, t),
                Block::Table { head, rows } => {
                    w.wrapped(Font::Bold, 10.0, &head.join("  |  "));
                    for r in rows {
                        w.wrapped(Font::Regular, 10.0, &r.join("  |  "));
                    }
                }
            }
        }
    }
    w.finish(&l.title)
}

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    fn name(self) -> pdf_writer::Name<'static> {
        pdf_writer::Name(match self {
            Font::Regular => b"F1",
            Font::Bold => b"F2",
            Font::Mono => b"F3",
        })
    }

    /// Characters per line at `size` on the text width (an average glyph
    /// width: 0.5 em for Helvetica, 0.6 em for Courier).
    fn per_line(self, size: f32) -> usize {
        let em = match self {
            Font::Regular | Font::Bold => 0.5,
            Font::Mono => 0.6,
        };
        ((TEXT_WIDTH / (size * em)) as usize).max(20)
    }
}

const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 56.0;
const TEXT_WIDTH: f32 = PAGE.0 - 2.0 * MARGIN;

/// Lines of text laid out on A4 pages.
#[derive(Default)]
struct PdfText {
    pages: Vec<pdf_writer::Content>,
    y: f32,
}

impl PdfText {
    fn line(&mut self, font: Font, size: f32, text: &str) {
        let leading = size * 1.35;
        if self.pages.is_empty() || self.y - leading < MARGIN {
            self.pages.push(pdf_writer::Content::new());
            self.y = PAGE.1 - MARGIN;
        }
        self.y -= leading;
        let Some(content) = self.pages.last_mut() else {
            return;
        };
        content.begin_text();
        content.set_font(font.name(), size);
        content.next_line(MARGIN, self.y);
        content.show(pdf_writer::Str(&win_ansi(text)));
        content.end_text();
    }

    /// `text` broken into lines at spaces (anywhere in a word too long).
    fn wrapped(&mut self, font: Font, size: f32, text: &str) {
        let width = font.per_line(size);
        let mut line = String::new();
        for word in text.split(' ') {
            let mut word = word.to_owned();
            while word.chars().count() > width {
                if !line.is_empty() {
                    self.line(font, size, &line);
                    line.clear();
                }
                let head: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                self.line(font, size, &head);
            }
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                self.line(font, size, &line);
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        if !line.is_empty() {
            self.line(font, size, &line);
        }
    }

    fn gap(&mut self) {
        self.y -= 6.0;
    }

    fn finish(self, title: &str) -> Vec<u8> {
        use pdf_writer::{Finish as _, Name, Pdf, Rect, Ref, TextStr};
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let fonts = [Ref::new(3), Ref::new(4), Ref::new(5)];
        let info = Ref::new(6);
        let first = 7;
        let mut pages = self.pages;
        if pages.is_empty() {
            pages.push(pdf_writer::Content::new());
        }
        let ids: Vec<(Ref, Ref)> = (0..pages.len())
            .map(|i| {
                let n = first + 2 * i32::try_from(i).unwrap_or(0);
                (Ref::new(n), Ref::new(n + 1))
            })
            .collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(ids.iter().map(|(page, _)| *page))
            .count(i32::try_from(ids.len()).unwrap_or(i32::MAX));
        pdf.document_info(info)
            .title(TextStr(title))
            .producer(TextStr("Writ"));
        for (font, (id, base)) in
            [Font::Regular, Font::Bold, Font::Mono]
                .into_iter()
                .zip(
                    fonts
                        .iter()
                        .zip([&b"Helvetica"[..], b"Helvetica-Bold", b"Courier"]),
                )
        {
            let _ = font;
            pdf.type1_font(*id)
                .base_font(Name(base))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        for ((page_id, content_id), content) in ids.iter().zip(pages) {
            let mut page = pdf.page(*page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1));
            page.parent(tree);
            page.contents(*content_id);
            let mut resources = page.resources();
            let mut f = resources.fonts();
            f.pair(Font::Regular.name(), fonts[0]);
            f.pair(Font::Bold.name(), fonts[1]);
            f.pair(Font::Mono.name(), fonts[2]);
            f.finish();
            resources.finish();
            page.finish();
            pdf.stream(*content_id, &content.finish());
        }
        pdf.finish()
    }
}

/// Text in the standard fonts' WinAnsiEncoding; a character it lacks
/// becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// The letter of `agency`'s case `id` as a response, as PDF when `pdf`,
/// else HTML (the API and the portal serve it alike); another agency's case
/// is not found.
pub(crate) async fn response(
    state: &crate::AppState,
    agency: &str,
    id: &str,
    headers: &axum::http::HeaderMap,
    as_pdf: bool,
) -> Result<axum::response::Response, writ_gateway::GatewayError> {
    let writ_gateway::PortalCase { case, package } =
        state.gateway().portal_case(agency, id).await?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let log = state.inner.log.as_ref().map(|l| LogRef {
        url: format!("http://{host}/log"),
        vkey: l.vkey().to_string(),
    });
    let now = Timestamp::now();
    let doc = letter(&case, package.as_ref(), log.as_ref(), now);
    Ok(serve(&doc, &format!("{id}-letter"), as_pdf))
}

/// A document as a response, PDF when `as_pdf`, else HTML, to be shown
/// inline under the file name `name` (`.pdf` or `.html` added).
pub(crate) fn serve(doc: &Letter, name: &str, as_pdf: bool) -> axum::response::Response {
    let file: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let (content_type, name, body) = if as_pdf {
        ("application/pdf", format!("{file}.pdf"), pdf_of(doc))
    } else {
        (
            "text/html; charset=utf-8",
            format!("{file}.html"),
            html_of(doc).into_bytes(),
        )
    };
    axum::response::IntoResponse::into_response((
        [
            ("content-type", content_type.to_owned()),
            ("cache-control", "no-store".to_owned()),
            (
                "content-disposition",
                format!("inline; filename=\"{name}\""),
            ),
            ("vary", "accept".to_owned()),
        ],
        body,
    ))
}

/// Whether a request's `Accept` asks for the PDF rather than HTML.
pub(crate) fn wants_pdf(headers: &axum::http::HeaderMap) -> bool {
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    accept.contains("application/pdf") && !accept.contains("text/html")
}
