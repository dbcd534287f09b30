//! The portal's order form (`/portal/orders/new`): an officer writes an
//! order field by field instead of as JSON, uploads the signed document,
//! sees what the rule book will say that the order alone settles, keeps a
//! draft between visits, and submits. The form becomes the same order the
//! API takes (docs/formats.md, "Order"), submitted by the signed-in agency
//! through the same intake; the document becomes one of its `attachments`.
//!
//! The same form serves the console's "Record a received order"
//! (`/console/orders/new`): staff transcribe an order that arrived on paper,
//! by e-mail, by fax or by hand, choose the agency from the registry and
//! the channel, and the order is recorded through
//! [`writ_gateway::Gateway::record_order`], held until another person
//! verifies the channel (docs/legal-rules.md, "Orders transcribed by
//! staff"). [`Desk`] is what differs between the two.
//!
//! Everything works without JavaScript: adding or removing a target row,
//! checking and saving are buttons of the one form, and each of them saves
//! the draft.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use writ_gateway::drafts::{DraftDocument, check_document};
use writ_gateway::precheck::Foreseen;
use writ_gateway::{GatewayError, Submission};
use writ_model::order::{Attachment, DateRange, Emergency, Issuer, NonDisclosure, Offence};
use writ_model::{
    Category, Country, Instrument, IssuerKind, Name, Order, Target, TargetKind, Timestamp,
};

use super::portal::{Session, limited, session};
use super::{PageError, csrf_field, encode, layout, page, see_other};
use crate::AppState;

const HOME: &str = "/portal";
const NEW: &str = "/portal/orders/new";
pub(super) const CONSOLE_NEW: &str = "/console/orders/new";

/// The key of a staff member's own draft of the record form.
pub(super) fn console_draft_key(user: &writ_gateway::auth::User) -> String {
    format!("console:{}", user.name)
}

/// Who fills the form in.
pub(super) enum Desk<'a> {
    /// An officer of the agency signed in to the portal: the order is the
    /// agency's own.
    Portal(&'a Session),
    /// The provider's staff, transcribing an order that arrived on paper;
    /// with the registry's agencies to choose from (id, name, country).
    Console(&'a super::console::Session, Vec<(String, String, String)>),
}

impl Desk<'_> {
    fn home(&self) -> &'static str {
        match self {
            Desk::Portal(_) => HOME,
            Desk::Console(..) => "/console",
        }
    }

    fn new_url(&self) -> &'static str {
        match self {
            Desk::Portal(_) => NEW,
            Desk::Console(..) => CONSOLE_NEW,
        }
    }

    fn csrf(&self) -> &str {
        match self {
            Desk::Portal(s) => &s.csrf,
            Desk::Console(s, _) => &s.csrf,
        }
    }

    fn nav(&self) -> Markup {
        match self {
            Desk::Portal(s) => super::portal::nav(Some(s)),
            Desk::Console(s, _) => super::console::nav(Some(s)),
        }
    }

    fn check_csrf(&self, f: &Fields) -> Result<(), PageError> {
        match self {
            Desk::Portal(s) => super::portal::check_csrf(s, f),
            Desk::Console(s, _) => super::console::check_csrf(s, f, CONSOLE_NEW),
        }
    }

    /// Whose draft: the agency's in the portal, the staff member's own in
    /// the console.
    fn draft_key(&self) -> String {
        match self {
            Desk::Portal(s) => s.agency.clone(),
            Desk::Console(s, _) => console_draft_key(&s.user),
        }
    }

    /// The form's fields besides the order's.
    fn extra_fields(&self) -> &'static [&'static str] {
        match self {
            Desk::Portal(_) => &[],
            Desk::Console(..) => crate::api::RECORD_FORM_EXTRA_FIELDS,
        }
    }

    /// The agency the order is from, if known.
    fn agency<'f>(&'f self, f: &'f Fields) -> Option<&'f str> {
        match self {
            Desk::Portal(s) => Some(&s.agency),
            Desk::Console(_, agencies) => {
                let chosen = first(f, "agency");
                agencies
                    .iter()
                    .find(|(id, ..)| id == chosen)
                    .map(|(id, ..)| id.as_str())
            }
        }
    }
}

/// The form's fields as sent: (name, value), names repeated for the rows
/// of targets and the ticked categories.
type Fields = Vec<(String, String)>;

fn first<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn all<'a>(f: &'a Fields, name: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The target rows: kinds and values, paired by position.
fn targets(f: &Fields) -> Vec<(String, String)> {
    let kinds = all(f, "target_kind");
    let values = all(f, "target_value");
    (0..kinds.len().max(values.len()).max(1))
        .map(|i| {
            (
                kinds.get(i).copied().unwrap_or("email").to_owned(),
                values.get(i).copied().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn with_targets(f: &Fields, rows: &[(String, String)]) -> Fields {
    let mut out: Fields = f
        .iter()
        .filter(|(k, _)| k != "target_kind" && k != "target_value")
        .cloned()
        .collect();
    for (kind, value) in rows {
        out.push(("target_kind".into(), kind.clone()));
        out.push(("target_value".into(), value.clone()));
    }
    out
}

/// A problem with one field (or with the form, for `""`).
struct Problem {
    field: &'static str,
    message: String,
}

/// Where an order path's error is shown: the fieldset of its first part.
fn field_of(path: &str) -> &'static str {
    let head = path.split(['.', '[']).next().unwrap_or_default();
    match head {
        "reference" => "reference",
        "instrument" => "instrument",
        "legal_basis" => "legal_basis",
        "issued_by" | "validated_by" => "issuer",
        "issued_at" | "expires_at" | "respond_by" => "dates",
        "offence" => "offence",
        "targets" => "targets",
        "categories" => "categories",
        "date_range" => "date_range",
        "non_disclosure" => "secrecy",
        "emergency" => "emergency",
        "attachments" | "document" => "document",
        "agency" => "agency",
        "channel" => "channel",
        "corrects" => "corrects",
        "enforcing_authority" => "enforcing",
        _ => "",
    }
}

/// A date from the form: `YYYY-MM-DD` (midnight UTC), a browser's
/// `datetime-local` value (read as UTC), or a full RFC 3339 instant.
fn instant(value: &str) -> Result<Timestamp, String> {
    let v = value.trim();
    let full = match v.len() {
        10 => format!("{v}T00:00:00Z"),
        16 => format!("{v}:00Z"),
        19 => format!("{v}Z"),
        _ => v.to_owned(),
    };
    Timestamp::parse(&full)
        .map_err(|_| format!("`{v}` is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"))
}

fn optional_instant(
    f: &Fields,
    name: &str,
    field: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<Timestamp> {
    let v = first(f, name).trim();
    if v.is_empty() {
        return None;
    }
    instant(v)
        .map_err(|message| problems.push(Problem { field, message }))
        .ok()
}

fn issuer(f: &Fields, prefix: &str) -> Option<Result<Issuer, String>> {
    let kind = first(f, &format!("{prefix}_kind")).trim();
    if kind.is_empty() {
        return None;
    }
    let text = |n: &str| {
        let v = first(f, &format!("{prefix}_{n}")).trim();
        (!v.is_empty()).then(|| v.to_owned())
    };
    Some(match IssuerKind::parse(kind) {
        Some(kind) => Ok(Issuer {
            kind,
            name: text("name"),
            court: text("court"),
        }),
        None => Err(format!("`{kind}` is not a kind of issuer")),
    })
}

/// The order the form describes, or what is wrong with it, field by field.
fn build(
    agency: &str,
    f: &Fields,
    document: Option<&DraftDocument>,
) -> Result<Order, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut need = |field: &'static str, message: &str| {
        problems.push(Problem {
            field,
            message: message.to_owned(),
        })
    };
    let reference = Name::parse(first(f, "reference").trim().to_owned());
    if reference.is_none() {
        need(
            "reference",
            "write your own reference for this order (your case or file number)",
        );
    }
    let instrument = Instrument::parse(first(f, "instrument"));
    if instrument.is_none() {
        need("instrument", "choose what kind of legal process this is");
    }
    let legal_basis = first(f, "legal_basis").trim().to_owned();
    if legal_basis.is_empty() {
        need(
            "legal_basis",
            "name the law that allows this order (statute and section)",
        );
    }
    let issued_by = match issuer(f, "issuer") {
        Some(Ok(i)) => Some(i),
        Some(Err(m)) => {
            need("issuer", &m);
            None
        }
        None => {
            need("issuer", "say who issued the order");
            None
        }
    };
    let validated_by = match issuer(f, "validator") {
        Some(Ok(i)) => Some(i),
        Some(Err(m)) => {
            need("issuer", &m);
            None
        }
        None => None,
    };
    let issued_at = match first(f, "issued_at").trim() {
        "" => {
            need("dates", "give the date the order was issued");
            None
        }
        v => instant(v).map_err(|m| need("dates", &m)).ok(),
    };
    let expires_at = optional_instant(f, "expires_at", "dates", &mut problems);
    let respond_by = optional_instant(f, "respond_by", "dates", &mut problems);

    let offence = match first(f, "offence_description").trim() {
        "" => None,
        description => {
            let years = first(f, "offence_years").trim();
            let max_custodial_years = if years.is_empty() {
                0
            } else {
                match years.parse::<i64>() {
                    Ok(y) => y,
                    Err(_) => {
                        problems.push(Problem {
                            field: "offence",
                            message: format!("`{years}` is not a number of years"),
                        });
                        0
                    }
                }
            };
            let country = first(f, "offence_country").trim();
            let committed_in = if country.is_empty() {
                None
            } else {
                let c = Country::parse(&country.to_uppercase());
                if c.is_none() {
                    problems.push(Problem {
                        field: "offence",
                        message: format!("`{country}` is not a two-letter country code"),
                    });
                }
                c
            };
            Some(Offence {
                description: description.to_owned(),
                max_custodial_years,
                listed: first(f, "offence_listed") == "on",
                committed_in,
            })
        }
    };

    let mut order_targets = Vec::new();
    for (i, (kind, value)) in targets(f).into_iter().enumerate() {
        let value = value.trim();
        let Some(kind) = TargetKind::parse(&kind) else {
            problems.push(Problem {
                field: "targets",
                message: format!("row {}: `{kind}` is not a kind of target", i + 1),
            });
            continue;
        };
        if value.is_empty() && kind != TargetKind::AllUsers {
            if order_targets.is_empty() && i == 0 {
                continue;
            }
            problems.push(Problem {
                field: "targets",
                message: format!(
                    "row {}: write the {} or remove the row",
                    i + 1,
                    kind.label().to_lowercase()
                ),
            });
            continue;
        }
        order_targets.push(Target {
            kind,
            value: value.to_owned(),
        });
    }
    if order_targets.is_empty() {
        problems.push(Problem {
            field: "targets",
            message: "name at least one account: an e-mail address, a phone number, a user name or an account id".into(),
        });
    }

    let mut categories = Vec::new();
    for c in all(f, "category") {
        match Category::parse(c) {
            Some(c) if !categories.contains(&c) => categories.push(c),
            Some(_) => {}
            None => problems.push(Problem {
                field: "categories",
                message: format!("`{c}` is not a category of data"),
            }),
        }
    }
    if categories.is_empty() && instrument != Some(Instrument::TechnicalAssistance) {
        problems.push(Problem {
            field: "categories",
            message: "tick the categories of data the order asks for".into(),
        });
    }

    let from = optional_instant(f, "range_from", "date_range", &mut problems);
    let to = optional_instant(f, "range_to", "date_range", &mut problems);
    let date_range = match (from, to) {
        (Some(from), Some(to)) if from > to => {
            problems.push(Problem {
                field: "date_range",
                message: "the range ends before it begins".into(),
            });
            None
        }
        (Some(from), Some(to)) => Some(DateRange { from, to }),
        (None, None) => None,
        _ => {
            problems.push(Problem {
                field: "date_range",
                message: "give both ends of the date range, or neither".into(),
            });
            None
        }
    };

    let non_disclosure = match first(f, "nd_basis").trim() {
        "" => None,
        basis => {
            let until = optional_instant(f, "nd_until", "secrecy", &mut problems);
            match issuer(f, "nd_issuer") {
                Some(Ok(issued_by)) => Some(NonDisclosure {
                    issued_by,
                    basis: basis.to_owned(),
                    until,
                }),
                Some(Err(m)) => {
                    problems.push(Problem {
                        field: "secrecy",
                        message: m,
                    });
                    None
                }
                None => {
                    problems.push(Problem {
                        field: "secrecy",
                        message: "say who issued the secrecy order".into(),
                    });
                    None
                }
            }
        }
    };

    let threat = first(f, "em_threat").trim();
    let facts = first(f, "em_facts").trim();
    let emergency = match instrument {
        Some(i) if i.allows_emergency() && !(threat.is_empty() && facts.is_empty()) => {
            Some(Emergency {
                threat: threat.to_owned(),
                facts: facts.to_owned(),
                callback: None,
            })
        }
        Some(Instrument::EmergencyRequest) => {
            problems.push(Problem {
                field: "emergency",
                message: "describe the threat and the facts that make it an emergency".into(),
            });
            None
        }
        _ => None,
    };

    let corrects = match first(f, "corrects").trim() {
        "" => None,
        r => {
            let name = Name::parse(r.to_owned());
            if name.is_none() {
                problems.push(Problem {
                    field: "corrects",
                    message: format!("`{r}` is not a reference"),
                });
            }
            name
        }
    };
    let ea_name = first(f, "ea_name").trim();
    let ea_country = first(f, "ea_country").trim();
    let enforcing_authority = match (ea_name, ea_country) {
        ("", "") => None,
        (_, "") | ("", _) => {
            problems.push(Problem {
                field: "enforcing",
                message: "give the enforcing authority's name and its country, or neither".into(),
            });
            None
        }
        (name, country) => match writ_model::Country::parse(&country.to_ascii_uppercase()) {
            Some(country) => Some(writ_model::EnforcingAuthority {
                name: name.to_owned(),
                country,
            }),
            None => {
                problems.push(Problem {
                    field: "enforcing",
                    message: format!("`{country}` is not a two-letter country code"),
                });
                None
            }
        },
    };

    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(reference), Some(instrument), Some(issued_by), Some(issued_at)) =
        (reference, instrument, issued_by, issued_at)
    else {
        return Err(vec![Problem {
            field: "",
            message: "the form is incomplete".into(),
        }]);
    };
    let Some(agency) = Name::parse(agency.to_owned()) else {
        return Err(vec![Problem {
            field: "",
            message: "the signed-in agency has no valid id".into(),
        }]);
    };
    Ok(Order {
        reference,
        agency,
        instrument,
        legal_basis,
        issued_by,
        validated_by,
        issued_at,
        expires_at,
        respond_by,
        offence,
        targets: order_targets,
        categories: (instrument != Instrument::TechnicalAssistance || !categories.is_empty())
            .then_some(categories),
        date_range,
        emergency,
        non_disclosure,
        assistance: Vec::new(),
        renews: None,
        corrects,
        enforcing_authority,
        attachments: document
            .map(|d| Attachment {
                name: d.name.clone(),
                media_type: d.media_type.clone(),
                sha256: d.sha256.clone(),
                size: d.size,
            })
            .into_iter()
            .collect(),
        transcription: None,
    })
}

/// What the page shows besides the fields.
#[derive(Default)]
struct View {
    problems: Vec<Problem>,
    foreseen: Option<Foreseen>,
    document: Option<DraftDocument>,
    notice: Option<String>,
}

fn problems_for<'a>(v: &'a View, field: &str) -> impl Iterator<Item = &'a str> {
    v.problems
        .iter()
        .filter(move |p| p.field == field)
        .map(|p| p.message.as_str())
}

fn messages(v: &View, field: &str) -> Markup {
    html! {
        @for m in problems_for(v, field) {
            p.error role="alert" id={ "error-" (field) } { (m) }
        }
    }
}

fn select(
    name: &str,
    id: &str,
    chosen: &str,
    options: &[(&str, &str)],
    empty: Option<&str>,
) -> Markup {
    html! {
        select name=(name) id=(id) {
            @if let Some(e) = empty { option value="" selected[chosen.is_empty()] { (e) } }
            @for (value, label) in options {
                option value=(value) selected[*value == chosen] { (label) }
            }
        }
    }
}

fn issuer_kinds() -> Vec<(&'static str, &'static str)> {
    IssuerKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect()
}

fn render(desk: &Desk<'_>, f: &Fields, v: &View, status: StatusCode) -> Response {
    let rows = targets(f);
    let instruments: Vec<(&str, &str)> = Instrument::ALL
        .iter()
        .map(|i| (i.as_str(), i.label()))
        .collect();
    let target_kinds: Vec<(&str, &str)> = TargetKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect();
    let ticked = all(f, "category");
    let input = |name: &str, kind: &str| {
        html! { input type=(kind) name=(name) id=(name) value=(first(f, name)); }
    };
    let content = html! {
        @if let Some(n) = &v.notice { p.notice role="status" { (n) } }
        @if !v.problems.is_empty() {
            p.error role="alert" { "The order was not sent: see the messages next to the fields." }
        }
        (messages(v, ""))
        @match desk {
            Desk::Portal(_) => p { "Every field is what the order itself says. Dates are UTC. Nothing is sent to the provider until you press "
                strong { "Submit the order" } "; every other button keeps a draft that is here when you come back. "
                "The form makes the same order as " code { "POST /v1/orders" } " (see the provider's documentation, docs/formats.md)." },
            Desk::Console(..) => p { "Transcribe the order exactly as the document says; dates are UTC. "
                "Nothing of it is released until another person calls the agency back on a number from its registry entry and records that the agency sent it "
                "(docs/legal-rules.md, \"Orders transcribed by staff\"). Every button but " strong { "Record the order" } " keeps your draft." },
        }
        @if let Some(fs) = &v.foreseen {
            section #foreseen {
                h2 { "What the rule book will say" }
                @if fs.is_empty() {
                    p.notice { "Nothing in the order alone leads to a refusal. The provider still decides with the accounts it holds, which this check does not look at." }
                } @else {
                    @if !fs.refused.is_empty() {
                        p.error { strong { "The order will be refused as a whole:" } }
                        ul { @for r in &fs.refused { li { (r.message) " (" (r.citation) ")" } } }
                    }
                    @if !fs.denied.is_empty() {
                        p.error { strong { "These parts will be denied whatever the account:" } }
                        ul { @for r in &fs.denied {
                            li { (r.target.as_deref().unwrap_or("every target")) ", "
                                 (r.category.map(|c| c.label()).unwrap_or("every category")) ": " (r.message) " (" (r.citation) ")" }
                        } }
                    }
                    p { small { "This reads the order alone: it never says whether an account exists or where its data is kept." } }
                }
            }
        }
        form method="post" action=(desk.new_url()) enctype="multipart/form-data" novalidate {
            (csrf_field(desk.csrf()))
            @if let Desk::Console(_, agencies) = desk {
                @let choices: Vec<(&str, String)> = agencies.iter().map(|(id, name, country)| (id.as_str(), format!("{name} ({id}, {country})"))).collect();
                @let choices: Vec<(&str, &str)> = choices.iter().map(|(id, label)| (*id, label.as_str())).collect();
                @let channels: Vec<(&str, &str)> = writ_model::order::Channel::ALL.iter().map(|c| (c.as_str(), c.label())).collect();
                @let mailbox = first(f, "mailbox");
                @if !mailbox.is_empty() {
                    input type="hidden" name="mailbox" value=(mailbox);
                    p.notice { "Transcribing " a href={ "/console/mailbox/" (encode(mailbox)) } { "a message of the legal-process mailbox" }
                        "; recording the order marks it transcribed." }
                }
                fieldset #f-agency {
                    legend { "Received from" }
                    (messages(v, "agency"))
                    p { label for="agency" { "The requesting agency (from the registry: its country is counted)" } br;
                        (select("agency", "agency", first(f, "agency"), &choices, Some("— choose —"))) }
                    (messages(v, "channel"))
                    p { label for="channel" { "How it arrived" } br;
                        (select("channel", "channel", first(f, "channel"), &channels, Some("— choose —"))) }
                }
            }
            fieldset #f-reference {
                legend { "The order" }
                (messages(v, "reference"))
                p { label for="reference" { "Your reference" } br; (input("reference", "text")) }
                (messages(v, "instrument"))
                p { label for="instrument" { "Kind of legal process" } br;
                    (select("instrument", "instrument", first(f, "instrument"), &instruments, Some("— choose —"))) }
                (messages(v, "legal_basis"))
                p { label for="legal_basis" { "Legal basis (statute and section)" } br;
                    textarea name="legal_basis" id="legal_basis" rows="2" cols="70" { (first(f, "legal_basis")) } }
                (messages(v, "corrects"))
                p { label for="corrects" { "Corrects the earlier order with reference (only for a correction; the earlier order's case stays as it is)" } br; (input("corrects", "text")) }
            }
            fieldset #f-issuer {
                legend { "Issued by" }
                (messages(v, "issuer"))
                label for="issuer_kind" { "Kind" } (select("issuer_kind", "issuer_kind", first(f, "issuer_kind"), &issuer_kinds(), Some("— choose —")))
                label for="issuer_name" { "Name (the judge)" } (input("issuer_name", "text"))
                label for="issuer_court" { "Court or authority" } (input("issuer_court", "text"))
                br;
                label for="validator_kind" { "Validated by (European orders issued by police)" }
                (select("validator_kind", "validator_kind", first(f, "validator_kind"), &issuer_kinds(), Some("— nobody —")))
                label for="validator_name" { "Name" } (input("validator_name", "text"))
            }
            fieldset #f-dates {
                legend { "Dates (UTC)" }
                (messages(v, "dates"))
                label for="issued_at" { "Issued" } (input("issued_at", "date"))
                label for="expires_at" { "Expires" } (input("expires_at", "date"))
                label for="respond_by" { "Answer by (if the order says)" } (input("respond_by", "date"))
            }
            fieldset #f-targets {
                legend { "Accounts named (targets)" }
                (messages(v, "targets"))
                table {
                    thead { tr { th { "Kind" } th { "Value" } th { span.visually-hidden { "Remove" } } } }
                    tbody { @for (i, (kind, value)) in rows.iter().enumerate() { tr {
                        td { label.visually-hidden for={ "target_kind_" (i) } { "Kind of target " (i + 1) }
                             (select("target_kind", &format!("target_kind_{i}"), kind, &target_kinds, None)) }
                        td { label.visually-hidden for={ "target_value_" (i) } { "Target " (i + 1) }
                             input type="text" name="target_value" id={ "target_value_" (i) } value=(value) size="40"; }
                        td { @if rows.len() > 1 { button type="submit" name="action" value={ "remove_target_" (i) } { "Remove row " (i + 1) } } }
                    } } }
                }
                button type="submit" name="action" value="add_target" { "Add a target" }
            }
            fieldset #f-categories {
                legend { "Categories of data asked for" }
                (messages(v, "categories"))
                @for c in Category::ALL {
                    label { input type="checkbox" name="category" value=(c.as_str()) checked[ticked.contains(&c.as_str())]; " " (c.label()) }
                }
            }
            fieldset #f-date_range {
                legend { "Records from this period only (optional)" }
                (messages(v, "date_range"))
                label for="range_from" { "From" } (input("range_from", "date"))
                label for="range_to" { "To" } (input("range_to", "date"))
            }
            fieldset #f-secrecy {
                legend { "Secrecy order (optional): a court forbids telling the user" }
                (messages(v, "secrecy"))
                p { label for="nd_basis" { "Its legal basis (leave empty when there is none)" } br; (input("nd_basis", "text")) }
                label for="nd_issuer_kind" { "Issued by" } (select("nd_issuer_kind", "nd_issuer_kind", first(f, "nd_issuer_kind"), &issuer_kinds(), Some("— choose —")))
                label for="nd_issuer_name" { "Name" } (input("nd_issuer_name", "text"))
                label for="nd_until" { "Until (empty: no end date)" } (input("nd_until", "date"))
            }
            fieldset #f-offence {
                legend { "Offence (European orders)" }
                (messages(v, "offence"))
                label for="offence_description" { "Description" } (input("offence_description", "text"))
                label for="offence_years" { "Maximum custodial sentence (years)" } (input("offence_years", "number"))
                label { input type="checkbox" name="offence_listed" checked[first(f, "offence_listed") == "on"]; " Listed offence" }
                label for="offence_country" { "Committed in (country code)" } (input("offence_country", "text"))
            }
            fieldset #f-enforcing {
                legend { "Enforcing authority (a European Production Order notified under Art. 8 of Regulation (EU) 2023/1543)" }
                (messages(v, "enforcing"))
                label for="ea_name" { "Name" } (input("ea_name", "text"))
                label for="ea_country" { "Country code" } (input("ea_country", "text"))
            }
            fieldset #f-emergency {
                legend { "Emergency (emergency requests and European Production Orders only)" }
                (messages(v, "emergency"))
                p { label for="em_threat" { "The threat (to life or of serious physical injury)" } br; (input("em_threat", "text")) }
                p { label for="em_facts" { "The facts that make it urgent" } br;
                    textarea name="em_facts" id="em_facts" rows="3" cols="70" { (first(f, "em_facts")) } }
            }
            fieldset #f-document {
                legend { "The signed order (PDF or image, at most 25 MiB)" }
                (messages(v, "document"))
                @if let Some(d) = &v.document {
                    p { "Uploaded: " strong { (d.name) } " (" (d.media_type) ", " (d.size) " bytes, SHA-256 " code { (d.sha256) } ") "
                        label { input type="checkbox" name="document_keep" checked; " keep it" } }
                    p { label for="document" { "Replace it with" } br; input type="file" name="document" id="document" accept="application/pdf,image/png,image/jpeg,image/tiff"; }
                } @else {
                    p { label for="document" { "Document" } br; input type="file" name="document" id="document" accept="application/pdf,image/png,image/jpeg,image/tiff"; }
                }
            }
            p {
                button type="submit" name="action" value="check" { "Check the order" } " "
                button type="submit" name="action" value="save" { "Save the draft" } " "
                button type="submit" name="action" value="submit" { strong { @match desk { Desk::Portal(_) => "Submit the order", Desk::Console(..) => "Record the order" } } } " "
                button type="submit" name="action" value="discard" formnovalidate { "Discard the draft" }
            }
        }
        @match desk {
            Desk::Portal(_) => p { a href=(HOME) { "Back to your cases" } " · or paste an order as JSON on " a href=(HOME) { "the portal's first page" } },
            Desk::Console(..) => p { a href="/console" { "Back to the queue" } },
        }
    };
    let title = match desk {
        Desk::Portal(_) => "New order",
        Desk::Console(..) => "Record a received order",
    };
    page(status, layout(title, desk.nav(), content))
}

/// `GET /portal/orders/new`: the form, with the saved draft if any.
pub(crate) async fn new_order(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    limited(&state, &s)?;
    show(&state, &Desk::Portal(&s)).await
}

/// `GET /console/orders/new`: the form for staff who record an order that
/// arrived on paper, with their saved draft if any.
pub(crate) async fn new_record(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(s) = super::console::session(&state, &headers).await else {
        return Ok(see_other("/console", &[]));
    };
    let agencies = state
        .gateway()
        .agency_choices(&s.user)
        .await
        .map_err(|e| PageError::new(e, "/console"))?;
    show(&state, &Desk::Console(&s, agencies)).await
}

async fn show(state: &AppState, desk: &Desk<'_>) -> Result<Response, PageError> {
    let draft = state
        .gateway()
        .draft(&desk.draft_key())
        .await
        .map_err(|e| PageError::new(e, desk.home()))?;
    let (fields, view) = match draft {
        Some(d) => {
            let notice = Timestamp::from_second(d.saved_at)
                .map(|t| format!("Your draft of {t} is restored."));
            (
                d.fields,
                View {
                    document: d.document,
                    notice,
                    ..View::default()
                },
            )
        }
        None => (Vec::new(), View::default()),
    };
    Ok(render(desk, &fields, &view, StatusCode::OK))
}

/// The multipart form read: its text fields and the uploaded document.
struct Sent {
    fields: Fields,
    document: Option<(String, Vec<u8>)>,
    /// Names of fields the form does not have (the first few).
    unknown: Vec<String>,
}

/// A text field's value; bytes that are not UTF-8 become U+FFFD, and the
/// field checks say what is wrong with the value.
async fn text(part: axum::extract::multipart::Field<'_>) -> Result<String, String> {
    let bytes = part.bytes().await.map_err(|e| e.body_text())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads the form: its text fields and the document.
async fn read(mut m: Multipart, extra: &[&str]) -> Result<Sent, String> {
    let mut fields = Vec::new();
    let mut document = None;
    let mut unknown = Vec::new();
    while let Some(part) = m.next_field().await.map_err(|e| e.body_text())? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "document" {
            let file = part.file_name().unwrap_or_default().to_owned();
            let bytes = part.bytes().await.map_err(|e| e.body_text())?;
            if !bytes.is_empty() {
                document = Some((file, bytes.to_vec()));
            }
            continue;
        }
        if fields.len() >= 4 * writ_model::order::MAX_TARGETS {
            return Err("the form has too many fields".into());
        }
        let text = text(part).await?;
        if crate::api::ORDER_FORM_FIELDS.contains(&name.as_str()) || extra.contains(&name.as_str())
        {
            fields.push((name, text));
        } else if unknown.len() < 5 {
            unknown.push(name);
        }
    }
    Ok(Sent {
        fields,
        document,
        unknown,
    })
}

/// `POST /portal/orders/new`: one of the form's buttons.
pub(crate) async fn post_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    // Without a session nothing of the form is read: a redirect would lose
    // what the officer wrote, so the answer says to sign in again (the
    // last saved draft is kept).
    let Some(s) = session(&state, &headers).await else {
        return Err(PageError::new(
            GatewayError::Unauthorized(
                "you are not signed in to the portal, or your session has ended: sign in again; the draft you last saved is kept"
                    .into(),
            ),
            HOME,
        ));
    };
    handle(&state, &Desk::Portal(&s), body).await
}

/// `POST /console/orders/new`: one of the form's buttons, for staff who
/// record an order that arrived on paper.
pub(crate) async fn post_record(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let Some(s) = super::console::session(&state, &headers).await else {
        return Err(PageError::new(
            GatewayError::Unauthorized(
                "you are not signed in to the console, or your session has ended: sign in again; the draft you last saved is kept"
                    .into(),
            ),
            "/console",
        ));
    };
    let agencies = state
        .gateway()
        .agency_choices(&s.user)
        .await
        .map_err(|e| PageError::new(e, "/console"))?;
    handle(&state, &Desk::Console(&s, agencies), body).await
}

async fn handle(
    state: &AppState,
    desk: &Desk<'_>,
    body: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let new = desk.new_url();
    let bad = |m: String| {
        PageError::new(
            GatewayError::Input(writ_model::InputError {
                file: String::new(),
                path: String::new(),
                message: m,
            }),
            new,
        )
    };
    let no_token = || {
        PageError::forbidden(
            "the form's security token is missing or stale; reload the page and try again",
            new,
        )
    };
    let body = body.map_err(|e| bad(e.body_text()))?;
    let sent = read(body, desk.extra_fields()).await.map_err(bad)?;
    // The token first, like every form's: a forged post changes nothing,
    // not even the draft.
    if !sent.fields.iter().any(|(k, _)| k == "csrf") {
        return Err(no_token());
    }
    if !sent.unknown.is_empty() {
        return Err(bad(format!(
            "the order form has no field {}",
            sent.unknown
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Desk::Portal(s) = desk {
        limited(state, s)?;
    }
    desk.check_csrf(&sent.fields)?;
    let gw = state.gateway();
    let key = desk.draft_key();
    let fail = |e: GatewayError| PageError::new(e, new);
    let action = first(&sent.fields, "action").to_owned();
    let mut fields: Fields = sent
        .fields
        .into_iter()
        .filter(|(k, _)| k != "csrf" && k != "action")
        .collect();
    if action == "discard" {
        gw.discard_draft(&key).await.map_err(fail)?;
        return Ok(see_other(new, &[]));
    }
    let mut view = View::default();
    // The document: a new upload replaces the draft's; otherwise the
    // draft's stays if "keep it" is ticked.
    let mut uploaded = None;
    if let Some((name, bytes)) = &sent.document {
        match check_document(name, bytes) {
            Ok(d) => uploaded = Some((d, bytes.as_slice())),
            Err(GatewayError::Input(e)) => view.problems.push(Problem {
                field: "document",
                message: e.message,
            }),
            Err(e) => return Err(fail(e)),
        }
    }
    let keep = first(&fields, "document_keep") == "on";
    if action == "add_target" || action.starts_with("remove_target_") {
        let mut rows = targets(&fields);
        if action == "add_target" {
            if rows.len() < writ_model::order::MAX_TARGETS {
                rows.push(("email".into(), String::new()));
            }
        } else if let Some(i) = action
            .strip_prefix("remove_target_")
            .and_then(|i| i.parse::<usize>().ok())
            && i < rows.len()
            && rows.len() > 1
        {
            rows.remove(i);
        }
        fields = with_targets(&fields, &rows);
    }
    let draft = gw
        .save_draft(&key, fields.clone(), uploaded, keep)
        .await
        .map_err(fail)?;
    view.document = draft.document.clone();
    match action.as_str() {
        "save" => {
            view.notice = Some("The draft is saved; it will be here when you come back.".into());
        }
        "check" | "submit" => {
            let channel = writ_model::order::Channel::parse(first(&fields, "channel"));
            if let Desk::Console(..) = desk {
                if desk.agency(&fields).is_none() {
                    view.problems.push(Problem {
                        field: "agency",
                        message: "choose the agency that sent the order, from the registry".into(),
                    });
                }
                if channel.is_none() {
                    view.problems.push(Problem {
                        field: "channel",
                        message: "say how the order arrived".into(),
                    });
                }
            }
            let Some(agency) = desk.agency(&fields).map(str::to_owned) else {
                return Ok(render(
                    desk,
                    &fields,
                    &view,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ));
            };
            let order = match build(&agency, &fields, draft.document.as_ref()) {
                Ok(o) => o,
                Err(p) => {
                    view.problems.extend(p);
                    return Ok(render(
                        desk,
                        &fields,
                        &view,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ));
                }
            };
            if let Err(e) = writ_model::parse::check_order(&order) {
                view.problems.push(Problem {
                    field: field_of(&e.path),
                    message: e.to_string(),
                });
                return Ok(render(
                    desk,
                    &fields,
                    &view,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ));
            }
            if action == "check" || !view.problems.is_empty() {
                view.foreseen = Some(gw.foresee(&agency, &order).await.map_err(fail)?);
                let status = if view.problems.is_empty() {
                    StatusCode::OK
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                return Ok(render(desk, &fields, &view, status));
            }
            return submit(state, desk, &agency, channel, &fields, order, view).await;
        }
        _ => {}
    }
    let status = if view.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(desk, &fields, &view, status))
}

async fn submit(
    state: &AppState,
    desk: &Desk<'_>,
    agency: &str,
    channel: Option<writ_model::order::Channel>,
    fields: &Fields,
    order: Order,
    mut view: View,
) -> Result<Response, PageError> {
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, desk.new_url());
    let key = desk.draft_key();
    // The document's bytes are at hand before the order that names them
    // is sent, so that an order never announces a document that is lost.
    let document = match &view.document {
        Some(_) => match gw.draft_document(&key).await.map_err(fail)? {
            Some(d) => Some(d),
            None => {
                view.problems.push(Problem {
                    field: "document",
                    message: "the uploaded document is no longer there; upload it again".into(),
                });
                return Ok(render(
                    desk,
                    fields,
                    &view,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ));
            }
        },
        None => None,
    };
    // An order transcribed from the mailbox: the message must still wait.
    let mailbox = match desk {
        Desk::Console(s, _) if !first(fields, "mailbox").is_empty() => {
            let id = first(fields, "mailbox");
            let m = gw.mail(&s.user, id).await.map_err(fail)?;
            if m.state != "new" {
                view.problems.push(Problem {
                    field: "",
                    message: format!(
                        "the mailbox message this draft transcribes is {} already; discard the draft",
                        m.state
                    ),
                });
                return Ok(render(desk, fields, &view, StatusCode::CONFLICT));
            }
            Some((&s.user, id))
        }
        _ => None,
    };
    let body =
        serde_json::to_vec(&order).map_err(|e| fail(GatewayError::Internal(e.to_string())))?;
    let answer = match desk {
        Desk::Portal(s) => {
            gw.submit(Submission {
                submitter: agency,
                officer: s.officer.as_ref(),
                body: &body,
            })
            .await
        }
        Desk::Console(s, _) => match channel {
            Some(channel) => gw.record_order(&s.user, agency, channel, &body).await,
            None => Err(GatewayError::Input(writ_model::InputError::at(
                "channel",
                "say how the order arrived",
            ))),
        },
    };
    let answer = match answer {
        Ok(a) => a,
        Err(GatewayError::Input(e)) => {
            view.problems.push(Problem {
                field: field_of(&e.path),
                message: e.to_string(),
            });
            return Ok(render(
                desk,
                fields,
                &view,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
        Err(GatewayError::ConflictAt(e)) => {
            view.problems.push(Problem {
                field: field_of(&e.path),
                message: e.to_string(),
            });
            return Ok(render(desk, fields, &view, StatusCode::CONFLICT));
        }
        Err(GatewayError::Conflict(m)) => {
            view.problems.push(Problem {
                field: "reference",
                message: m,
            });
            return Ok(render(desk, fields, &view, StatusCode::CONFLICT));
        }
        Err(e) => return Err(fail(e)),
    };
    if let Some((d, bytes)) = document {
        gw.put_attachment(agency, &answer.case, &d.name, &bytes)
            .await
            .map_err(fail)?;
    }
    if let Some((user, id)) = mailbox
        && let Err(e) = gw.settle_mail(user, id, Some(&answer.case)).await
    {
        // Recorded all the same (someone dismissed it meanwhile): the case
        // stands, and the message says what became of it.
        tracing::warn!(message = id, case = %answer.case, error = %e, "cannot mark the mailbox message transcribed");
    }
    gw.discard_draft(&key).await.map_err(fail)?;
    let case = encode(&answer.case);
    Ok(see_other(
        &match desk {
            Desk::Portal(_) => format!("{HOME}/cases/{case}?submitted=1"),
            Desk::Console(..) => format!("/console/cases/{case}?done=record"),
        },
        &[],
    ))
}
