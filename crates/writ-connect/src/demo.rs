//! The demo mail service: a provider with subscriber profiles, login
//! sessions with IP addresses, message headers and message bodies with
//! attachments.
//!
//! Nothing is stored up front (`docs/http.md`, "Demo data": mail data is generated
//! deterministically when it is first read, and large accounts are streamed,
//! never held in memory). Every record is a pure function of the account id
//! and its index ([`DemoData`]), so the same account always yields the same
//! bytes and a date range maps straight to a span of indexes. What must
//! persist (deletions and legal holds) lives in the service's own SQLite
//! database in its own folder ([`DemoMail`]).
//!
//! An account's size comes from its id: most are a few KB or a few hundred KB, some a few MB,
//! a few tens of MB and a rare one several GB. An id `bulk-<bytes>` asks for
//! an account of about that many bytes (used by the benchmark).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, RwLock};

use base64::Engine;
use serde_json::json;
use sqlx::AnyPool;
use writ_model::order::DateRange;
use writ_model::{Category, Timestamp};

use crate::holds::{self, HoldError, Holds};
use crate::{ConnectError, Connector, Record, RecordStream};

/// The demo mailbox timeline: 2020-01-01 to 2030-01-01 (UTC), fixed so that
/// generation does not depend on the clock.
pub const START: i64 = 1_577_836_800;
pub const END: i64 = 1_893_456_000;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// How an account's data is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub seed: u64,
    /// About how many bytes the account's records take, all categories.
    pub target_bytes: u64,
    pub messages: u64,
    pub sessions: u64,
    /// Mean size of a message with its attachments.
    pub message_bytes: u64,
}

/// The id of a demo account of about `bytes` bytes.
pub fn bulk_account(bytes: u64) -> String {
    format!("bulk-{bytes}")
}

/// Reads a size such as `200MB`, `1GiB`, `5GiB`, `64KiB` or `1000`.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let unit = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "MB" => 1000 * 1000,
        "GB" => 1000 * 1000 * 1000,
        "KiB" => KIB,
        "MiB" => MIB,
        "GiB" => GIB,
        _ => return None,
    };
    number.checked_mul(unit)
}

/// The layout of `account`'s data.
pub fn plan(account: &str) -> Plan {
    let seed = fnv1a(account.as_bytes());
    let target_bytes = match account
        .strip_prefix("bulk-")
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(bytes) => bytes,
        None => match seed % 1000 {
            0..250 => 512 * KIB,
            250..700 => 8 * KIB,
            700..950 => 2 * MIB,
            950..995 => 64 * MIB,
            _ => 3 * GIB,
        },
    };
    // Larger mailboxes hold larger messages (more attachments), as real
    // ones do; this also keeps the number of records of a large account
    // moderate.
    let message_bytes = (target_bytes / 2000).clamp(KIB, 256 * KIB);
    let messages = (target_bytes / 10 * 9 / (message_bytes + 300)).max(3);
    let sessions = messages / 2 + 3;
    Plan {
        seed,
        target_bytes,
        messages,
        sessions,
        message_bytes,
    }
}

/// The demo mail data, generated on demand. Stateless: deletions are applied
/// by [`DemoMail`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DemoData;

impl Connector for DemoData {
    fn records(
        &self,
        account: &str,
        category: Category,
        range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError> {
        Ok(Box::new(generate(account, category, range)))
    }
}

/// The records of `account` in `category` within `range`, generated lazily.
pub fn generate(
    account: &str,
    category: Category,
    range: Option<DateRange>,
) -> impl Iterator<Item = Result<Record, ConnectError>> + Send + 'static {
    let plan = plan(account);
    let count = match category {
        Category::Subscriber => 1,
        Category::Identification | Category::Location => plan.sessions,
        Category::Traffic | Category::Content => plan.messages,
    };
    let (lo, hi) = match (category, range) {
        (Category::Subscriber, _) | (_, None) => (0, count),
        (_, Some(r)) => index_span(count, r.from.as_second(), r.to.as_second()),
    };
    let account = account.to_owned();
    (lo..hi).filter_map(move |i| {
        let record = make(&account, &plan, category, i, count);
        match (record.at, range) {
            (Some(at), Some(r)) if at < r.from || at > r.to => None,
            _ => Some(Ok(record)),
        }
    })
}

/// The indexes whose times may fall in `[from, to]` (a little wider; the
/// caller checks each time).
fn index_span(count: u64, from: i64, to: i64) -> (u64, u64) {
    let span = i128::from(END - START);
    let index_at =
        |t: i64| -> i128 { (i128::from(t) - i128::from(START)) * i128::from(count) / span };
    let clamp = |x: i128| u64::try_from(x.clamp(0, i128::from(count))).unwrap_or(0);
    (clamp(index_at(from) - 1), clamp(index_at(to) + 2))
}

fn time_of(seed: u64, i: u64, count: u64) -> Timestamp {
    let span = u128::try_from(END - START).unwrap_or(1);
    let count = u128::from(count.max(1));
    let base = u128::from(i) * span / count;
    let step = (span / count).max(1);
    let jitter = u128::from(Rng::new(seed ^ 0x7a11, i).next()) % step;
    let seconds = i64::try_from(base + jitter).unwrap_or(0) + START;
    Timestamp::from_second(seconds.min(END - 1)).unwrap_or_else(Timestamp::now)
}

const FIRST: &[&str] = &[
    "ada", "bram", "chloe", "dmitri", "elif", "farah", "goran", "hana", "ines", "jonas", "kemal",
    "lena", "marta", "nils", "olga", "pavel",
];
const LAST: &[&str] = &[
    "ahn",
    "berg",
    "costa",
    "dubois",
    "eriksen",
    "fischer",
    "garcia",
    "horvat",
    "ivanova",
    "jensen",
    "kowalski",
    "lindqvist",
    "moreau",
    "novak",
    "okafor",
    "petrov",
];
const WORDS: &[&str] = &[
    "the", "meeting", "invoice", "tomorrow", "please", "attached", "project", "schedule", "thanks",
    "regards", "budget", "review", "draft", "call", "friday", "office", "report", "update",
    "travel", "order", "delivery", "contract", "question", "photos", "weekend", "lunch", "agenda",
    "notes", "account", "password", "family", "holiday",
];
const PLACES: &[(&str, &str, f64, f64)] = &[
    ("DE", "Berlin", 52.52, 13.405),
    ("FR", "Paris", 48.857, 2.352),
    ("IE", "Dublin", 53.35, -6.26),
    ("US", "New York", 40.713, -74.006),
    ("GB", "London", 51.507, -0.128),
    ("NL", "Amsterdam", 52.37, 4.895),
    ("ES", "Madrid", 40.417, -3.704),
    ("PL", "Warsaw", 52.23, 21.012),
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
    "DemoMail/3.2 (iPhone; iOS 17.5)",
    "DemoMail/3.2 (Android 14)",
];

fn pick<T>(items: &[T], r: u64) -> Option<&T> {
    items.get(usize::try_from(r % items.len().max(1) as u64).unwrap_or(0))
}

fn word(items: &[&'static str], r: u64) -> &'static str {
    pick(items, r).copied().unwrap_or("")
}

fn address(seed: u64, who: u64) -> String {
    let mut r = Rng::new(seed ^ 0xadd5, who);
    format!(
        "{}.{}@{}",
        word(FIRST, r.next()),
        word(LAST, r.next()),
        word(&["example.com", "example.org", "example.net"], r.next())
    )
}

fn own_address(account: &str, seed: u64) -> String {
    if account.contains('@') {
        account.to_owned()
    } else {
        let mut r = Rng::new(seed, 0);
        format!(
            "{}.{}@demomail.example",
            word(FIRST, r.next()),
            word(LAST, r.next())
        )
    }
}

fn ip(r: &mut Rng) -> String {
    match r.next() % 4 {
        0 => format!("2001:db8:{:x}::{:x}", r.next() % 0xffff, r.next() % 0xffff),
        1 => format!("192.0.2.{}", r.next() % 254 + 1),
        2 => format!("198.51.100.{}", r.next() % 254 + 1),
        _ => format!("203.0.113.{}", r.next() % 254 + 1),
    }
}

fn text(r: &mut Rng, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        out.push_str(word(WORDS, r.next()));
        out.push(if r.next().is_multiple_of(12) {
            '\n'
        } else {
            ' '
        });
    }
    out
}

fn make(account: &str, plan: &Plan, category: Category, i: u64, count: u64) -> Record {
    let seed = plan.seed;
    let (at, data) = match category {
        Category::Subscriber => {
            let mut r = Rng::new(seed ^ 0x5b, 0);
            let created = Timestamp::from_second(
                START - 86_400 * i64::try_from(r.next() % 3000).unwrap_or(0),
            );
            let (country, ..) = pick(PLACES, r.next())
                .copied()
                .unwrap_or(("DE", "", 0.0, 0.0));
            let data = json!({
                "account": account,
                "name": format!("{} {}", word(FIRST, r.next()), word(LAST, r.next())),
                "email": own_address(account, seed),
                "phone": format!("+49 30 {:08}", r.next() % 100_000_000),
                "recovery_email": address(seed, r.next() % 64),
                "country": country,
                "created_at": created.map(|t| t.to_string()),
                "plan": word(&["free", "plus", "business"], r.next()),
            });
            (None, data)
        }
        Category::Identification | Category::Location => {
            let at = time_of(seed ^ 0x5e55, i, count);
            let mut r = Rng::new(seed ^ 0x5e55, i);
            let address = ip(&mut r);
            let data = if category == Category::Identification {
                json!({
                    "at": at.to_string(),
                    "session": format!("s-{:016x}", r.next()),
                    "ip": address,
                    "port": 1024 + r.next() % 60000,
                    "user_agent": word(AGENTS, r.next()),
                    "result": if r.next().is_multiple_of(20) { "failed" } else { "ok" },
                })
            } else {
                let (country, city, lat, lon) = pick(PLACES, r.next())
                    .copied()
                    .unwrap_or(("DE", "Berlin", 0.0, 0.0));
                json!({
                    "at": at.to_string(),
                    "ip": address,
                    "country": country,
                    "city": city,
                    "lat": lat,
                    "lon": lon,
                    "accuracy_km": 25,
                })
            };
            (Some(at), data)
        }
        Category::Traffic | Category::Content => {
            let at = time_of(seed ^ 0x3a11, i, count);
            let mut r = Rng::new(seed ^ 0x3a11, i);
            let me = own_address(account, seed);
            let other = address(seed, r.next() % 64);
            let incoming = !r.next().is_multiple_of(3);
            let (from, to) = if incoming { (other, me) } else { (me, other) };
            let message_id = format!("<{:016x}.{i}@demomail.example>", seed);
            // Sizes vary from half to one and a half times the mean.
            let size = plan.message_bytes / 2 + r.next() % plan.message_bytes.max(1);
            if category == Category::Traffic {
                let data = json!({
                    "at": at.to_string(),
                    "message_id": message_id,
                    "from": from,
                    "to": [to],
                    "direction": if incoming { "in" } else { "out" },
                    "size": size,
                });
                (Some(at), data)
            } else {
                let body_len = usize::try_from(size.min(4096)).unwrap_or(4096);
                let subject = text(&mut r, 24).replace('\n', " ");
                let body = text(&mut r, body_len);
                let mut attachments = Vec::new();
                let rest = size.saturating_sub(4096);
                if rest > 0 {
                    // Base64 grows by 4/3: draw 3/4 of the remaining bytes.
                    let raw = usize::try_from(rest / 4 * 3).unwrap_or(0);
                    let mut bytes = Vec::with_capacity(raw + 8);
                    while bytes.len() < raw {
                        bytes.extend_from_slice(&r.next().to_le_bytes());
                    }
                    bytes.truncate(raw);
                    attachments.push(json!({
                        "name": format!("{}-{i}.bin", word(WORDS, r.next())),
                        "type": "application/octet-stream",
                        "size": raw,
                        "data_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
                    }));
                }
                let data = json!({
                    "at": at.to_string(),
                    "message_id": message_id,
                    "from": from,
                    "to": [to],
                    "subject": subject,
                    "body": body,
                    "attachments": attachments,
                });
                (Some(at), data)
            }
        }
    };
    Record {
        account: account.to_owned(),
        category,
        at,
        data,
    }
}

/// SplitMix64: small, fast, and enough for generated demo data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, index: u64) -> Self {
        Self(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The demo mail service with what must persist: deletions and legal holds,
/// in `<dir>/mail.db`.
///
/// One process owns a demo folder: deletions are cached in memory so that
/// reading records needs no database round trip.
#[derive(Clone, Debug)]
pub struct DemoMail {
    pool: AnyPool,
    holds: Holds,
    deleted: Arc<RwLock<BTreeSet<(String, Category)>>>,
}

/// Why a deletion did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("account `{account}` is under a legal hold in `{category}` until {until}")]
    Held {
        account: String,
        category: Category,
        until: Timestamp,
    },
    #[error(transparent)]
    Holds(#[from] HoldError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot create the demo folder `{path}`: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

impl DemoMail {
    /// Opens (creating if needed) the demo mail service in `dir`.
    pub async fn open(dir: &Path) -> Result<Self, DeleteError> {
        std::fs::create_dir_all(dir).map_err(|source| DeleteError::Folder {
            path: dir.display().to_string(),
            source,
        })?;
        let url = format!("sqlite://{}", dir.join("mail.db").display());
        let pool = holds::connect(&url).await?;
        let holds = Holds::with_pool(pool.clone()).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS demo_deletions (
                account TEXT NOT NULL,
                category TEXT NOT NULL,
                deleted_s BIGINT NOT NULL,
                PRIMARY KEY (account, category)
            )",
        )
        .execute(&pool)
        .await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT account, category FROM demo_deletions")
                .fetch_all(&pool)
                .await?;
        let deleted = rows
            .into_iter()
            .filter_map(|(a, c)| Category::parse(&c).map(|c| (a, c)))
            .collect();
        Ok(Self {
            pool,
            holds,
            deleted: Arc::new(RwLock::new(deleted)),
        })
    }

    /// The service's legal holds.
    pub fn holds(&self) -> &Holds {
        &self.holds
    }

    /// The service's own deletion path: deletes all of `account`'s data in
    /// `category` (a user closing a mailbox, a retention job), unless a
    /// legal hold is active on it at `now`, in which case nothing changes.
    ///
    /// The hold check and the deletion are one statement, so a hold placed
    /// concurrently cannot slip between them.
    pub async fn delete(
        &self,
        account: &str,
        category: Category,
        now: Timestamp,
    ) -> Result<(), DeleteError> {
        let done = sqlx::query(
            "INSERT INTO demo_deletions (account, category, deleted_s)
             SELECT $1, $2, $3 WHERE NOT EXISTS (
                 SELECT 1 FROM writ_holds WHERE account = $1 AND category = $2 AND until_s > $3)
             ON CONFLICT (account, category) DO NOTHING",
        )
        .bind(account)
        .bind(category.as_str())
        .bind(now.as_second())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0
            && let Some(until) = self.holds.held_until(account, category, now).await?
        {
            return Err(DeleteError::Held {
                account: account.to_owned(),
                category,
                until,
            });
        }
        if let Ok(mut deleted) = self.deleted.write() {
            deleted.insert((account.to_owned(), category));
        }
        Ok(())
    }

    fn is_deleted(&self, account: &str, category: Category) -> bool {
        self.deleted
            .read()
            .map(|d| d.contains(&(account.to_owned(), category)))
            // A poisoned lock means a writer panicked mid-update: show
            // nothing rather than data that may have been deleted.
            .unwrap_or(true)
    }
}

impl Connector for DemoMail {
    fn records(
        &self,
        account: &str,
        category: Category,
        range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError> {
        if self.is_deleted(account, category) {
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(Box::new(generate(account, category, range)))
    }
}
