//! Reading inputs at the edge, with errors that name the file and the field.
//!
//! Input errors are not decisions (`docs/legal-rules.md`, "Inputs"): a missing
//! field, a wrong type, a value outside an enumeration, an unknown field, a
//! duplicate target or category, a `date_range` without `from` or `to`, or a
//! directory in which two accounts share an identifier is refused here, before
//! any rule runs.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::DeserializeOwned;

use crate::case::CaseFile;
use crate::order::{MAX_TARGETS, Order, normalize};
use crate::registry::{Account, Agency, PriorHold};

/// Bad input: which file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    pub file: String,
    /// A JSON path such as `order.targets[1].kind`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.path.is_empty()) {
            (true, true) => write!(f, "{}", self.message),
            (true, false) => write!(f, "{}: {}", self.path, self.message),
            (false, true) => write!(f, "{}: {}", self.file, self.message),
            (false, false) => write!(f, "{}: {}: {}", self.file, self.path, self.message),
        }
    }
}

impl InputError {
    /// An error at a JSON path (or a form field's name).
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: String::new(),
            path: path.into(),
            message: message.into(),
        }
    }

    /// Names the file the error was found in.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = file.into();
        self
    }

    /// Puts `prefix` in front of the path (`order` + `targets[0]`).
    pub fn under(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.path = if self.path.is_empty() {
                prefix.to_owned()
            } else if self.path.starts_with('[') {
                format!("{prefix}{}", self.path)
            } else {
                format!("{prefix}.{}", self.path)
            };
        }
        self
    }
}

/// Deserializes JSON, reporting the path of the first error.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, InputError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_data() {
            // serde's own words, without the line and column of a data error:
            // the path says where.
            strip_position(&inner.to_string())
        } else {
            format!("invalid JSON: {inner}")
        };
        InputError::at(if path == "." { String::new() } else { path }, message)
    })?;
    de.end()
        .map_err(|e| InputError::at("", format!("invalid JSON: {e}")))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// serde accepts a JSON array for a struct (its fields in order); the formats
/// are objects, so the outermost value is checked here.
fn expect_outer(bytes: &[u8], open: u8, what: &str) -> Result<(), InputError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b) if *b == open => Ok(()),
        None => Err(InputError::at("", "invalid JSON: the input is empty")),
        Some(_) => Err(InputError::at("", format!("expected {what}"))),
    }
}

/// Reads and checks an order.
pub fn order(bytes: &[u8]) -> Result<Order, InputError> {
    expect_outer(bytes, b'{', "a JSON object (an order)")?;
    let order: Order = from_json(bytes)?;
    check_order(&order)?;
    Ok(order)
}

/// Reads and checks a registry (a JSON array of agencies).
pub fn registry(bytes: &[u8]) -> Result<Vec<Agency>, InputError> {
    expect_outer(bytes, b'[', "a JSON array of agencies")?;
    let agencies: Vec<Agency> = from_json(bytes)?;
    check_registry(&agencies)?;
    Ok(agencies)
}

/// Reads and checks a directory (a JSON array of accounts).
pub fn directory(bytes: &[u8]) -> Result<Vec<Account>, InputError> {
    expect_outer(bytes, b'[', "a JSON array of accounts")?;
    let accounts: Vec<Account> = from_json(bytes)?;
    check_directory(&accounts)?;
    Ok(accounts)
}

/// Reads and checks a list of prior holds.
pub fn prior(bytes: &[u8]) -> Result<Vec<PriorHold>, InputError> {
    expect_outer(bytes, b'[', "a JSON array of prior holds")?;
    let holds: Vec<PriorHold> = from_json(bytes)?;
    check_prior(&holds)?;
    Ok(holds)
}

/// Reads and checks a case file.
pub fn case_file(bytes: &[u8]) -> Result<CaseFile, InputError> {
    expect_outer(bytes, b'{', "a JSON object (a case file)")?;
    let case: CaseFile = from_json(bytes)?;
    check_registry(&case.agencies).map_err(|e| e.under("agencies"))?;
    check_directory(&case.accounts).map_err(|e| e.under("accounts"))?;
    check_prior(&case.prior).map_err(|e| e.under("prior"))?;
    check_order(&case.order).map_err(|e| e.under("order"))?;
    Ok(case)
}

/// The structural checks that serde cannot express.
pub fn check_order(order: &Order) -> Result<(), InputError> {
    if order.targets.len() > MAX_TARGETS {
        return Err(InputError::at(
            "targets",
            format!(
                "{} targets: at most {MAX_TARGETS} are allowed in one order",
                order.targets.len()
            ),
        ));
    }
    let mut seen = HashMap::new();
    for (i, target) in order.targets.iter().enumerate() {
        if let Some(first) = seen.insert(target.match_key(), i) {
            return Err(InputError::at(
                format!("targets[{i}]"),
                format!(
                    "duplicate target `{}` (same as targets[{first}])",
                    target.label()
                ),
            ));
        }
    }
    match &order.categories {
        None if order.instrument != crate::order::Instrument::TechnicalAssistance => {
            return Err(InputError::at("", "missing field `categories`"));
        }
        None => {}
        Some(categories) => {
            let mut seen = HashSet::new();
            for (i, c) in categories.iter().enumerate() {
                if !seen.insert(*c) {
                    return Err(InputError::at(
                        format!("categories[{i}]"),
                        format!("duplicate category `{c}`"),
                    ));
                }
            }
        }
    }
    for (path, t) in order_instants(order) {
        if !(EARLIEST_YEAR..=9999).contains(&t.year()) {
            return Err(InputError::at(
                path,
                format!("{t}: an order's dates lie between the years {EARLIEST_YEAR} and 9999"),
            ));
        }
    }
    if let Some(o) = &order.offence
        && !(0..=MAX_CUSTODIAL_YEARS).contains(&o.max_custodial_years)
    {
        return Err(InputError::at(
            "offence.max_custodial_years",
            format!(
                "{}: expected a number of years from 0 to {MAX_CUSTODIAL_YEARS}",
                o.max_custodial_years
            ),
        ));
    }
    if order.emergency.is_some() && !order.instrument.allows_emergency() {
        return Err(InputError::at(
            "emergency",
            format!(
                "an `emergency` block is allowed only on `emergency_request` and `epoc`, not on `{}`",
                order.instrument
            ),
        ));
    }
    if let Some(e) = &order.enforcing_authority {
        if order.instrument != crate::order::Instrument::Epoc
            && order.instrument != crate::order::Instrument::EpocPr
        {
            return Err(InputError::at(
                "enforcing_authority",
                format!(
                    "an `enforcing_authority` is named only on `epoc` and `epoc_pr`, not on `{}`",
                    order.instrument
                ),
            ));
        }
        if e.name.trim().is_empty() {
            return Err(InputError::at(
                "enforcing_authority.name",
                "the enforcing authority's name is empty",
            ));
        }
    }
    for (i, a) in order.attachments.iter().enumerate() {
        let plain = !a.name.is_empty()
            && a.name != "."
            && a.name != ".."
            && !a.name.contains(['/', '\\', '\0']);
        if !plain {
            return Err(InputError::at(
                format!("attachments[{i}].name"),
                format!("`{}` is not a plain file name", a.name),
            ));
        }
        let hex = a.sha256.len() == 64
            && a.sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(InputError::at(
                format!("attachments[{i}].sha256"),
                "expected 64 lowercase hexadecimal digits",
            ));
        }
        if a.size > crate::order::MAX_ATTACHMENT_BYTES {
            return Err(InputError::at(
                format!("attachments[{i}].size"),
                format!(
                    "{} bytes: a document may have at most {} bytes (25 MiB)",
                    a.size,
                    crate::order::MAX_ATTACHMENT_BYTES
                ),
            ));
        }
    }
    Ok(())
}

/// The earliest year an order's dates may name: none of the records Writ
/// discloses is older, and an earlier year is a typing error (`0000`).
pub const EARLIEST_YEAR: i16 = 1900;

/// The largest `offence.max_custodial_years`: life is written as a number
/// of years no law reaches.
pub const MAX_CUSTODIAL_YEARS: i64 = 999;

/// Every instant an order names, with its JSON path.
fn order_instants(order: &Order) -> Vec<(&'static str, crate::Timestamp)> {
    let mut all = vec![("issued_at", order.issued_at)];
    all.extend(order.expires_at.map(|t| ("expires_at", t)));
    all.extend(order.respond_by.map(|t| ("respond_by", t)));
    if let Some(r) = &order.date_range {
        all.extend([("date_range.from", r.from), ("date_range.to", r.to)]);
    }
    if let Some(n) = &order.non_disclosure {
        all.extend(n.until.map(|t| ("non_disclosure.until", t)));
    }
    if let Some(c) = order.emergency.as_ref().and_then(|e| e.callback.as_ref()) {
        all.extend(c.verified_at.map(|t| ("emergency.callback.verified_at", t)));
    }
    all
}

pub fn check_registry(agencies: &[Agency]) -> Result<(), InputError> {
    let mut ids = HashMap::new();
    for (i, a) in agencies.iter().enumerate() {
        if let Some(first) = ids.insert(a.id.as_str(), i) {
            return Err(InputError::at(
                format!("[{i}].id"),
                format!("duplicate agency id `{}` (same as [{first}])", a.id),
            ));
        }
    }
    Ok(())
}

/// Account ids are unique, and no two accounts share an identifier (e-mail
/// compared case-insensitively).
pub fn check_directory(accounts: &[Account]) -> Result<(), InputError> {
    let mut ids = HashMap::new();
    let mut identifiers = HashMap::new();
    for (i, a) in accounts.iter().enumerate() {
        if let Some(first) = ids.insert(a.id.as_str(), i) {
            return Err(InputError::at(
                format!("[{i}].id"),
                format!("duplicate account id `{}` (same as [{first}])", a.id),
            ));
        }
        for (j, ident) in a.identifiers.iter().enumerate() {
            let kind = ident.kind.target_kind();
            let key = (kind, normalize(kind, &ident.value));
            match identifiers.insert(key, i) {
                Some(other) if other != i => {
                    return Err(InputError::at(
                        format!("[{i}].identifiers[{j}]"),
                        format!(
                            "identifier `{}:{}` is also on account `{}`",
                            ident.kind, ident.value, accounts[other].id
                        ),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

pub fn check_prior(holds: &[PriorHold]) -> Result<(), InputError> {
    let mut seen = HashMap::new();
    for (i, h) in holds.iter().enumerate() {
        if let Some(first) = seen.insert((h.agency.as_str(), h.reference.as_str()), i) {
            return Err(InputError::at(
                format!("[{i}].reference"),
                format!(
                    "duplicate hold `{}` of agency `{}` (same as [{first}])",
                    h.reference, h.agency
                ),
            ));
        }
    }
    Ok(())
}
