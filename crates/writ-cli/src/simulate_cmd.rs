//! `writ simulate --data DIR --events N`: a demo log with a synthetic
//! workload that follows published mixes, dated across the current
//! half-year up to now, for `writ serve --data DIR` to serve and `writ
//! report` to count.
//!
//! The mixes: outcomes as Microsoft reported for H2 2021 (25,182 requests:
//! 4.26 % content, 51.59 % non-content only, 18.97 % no data, 25.18 %
//! rejected; 1.8 accounts per request) and legal process as Google reports
//! for the United States (subpoena 67 %, search warrant 24 %, other court
//! orders 6.5 %, emergency 1.4 %, the rest other process); preservation is a
//! separate stream. Entries have the shapes of `docs/formats.md` with salted
//! SHA-256 commitments over fresh random salts; the salts are not kept, so
//! nothing in a simulated log can ever be opened.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use writ_events::{
    Commitment, Decided, Disclosed, Event, Preserved, Public, Received, Reviewed, Salt, Verified,
};
use writ_model::{Instrument, Outcome, Timestamp};

/// Granted (or disclosed) accounts per category.
type Granted = std::collections::BTreeMap<String, u64>;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// The data folder to fill (created if needed); `writ serve --data DIR`
    /// serves it.
    #[arg(long, default_value = "./writ-data")]
    pub data: PathBuf,
    /// How many log entries to write.
    #[arg(long)]
    pub events: u64,
    /// The last instant events may have [default: now].
    #[arg(long)]
    pub now: Option<String>,
}

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let now = match &args.now {
        Some(t) => {
            Timestamp::parse(t).map_err(|e| crate::input::BadInput(format!("--now: {e}")))?
        }
        None => Timestamp::now(),
    };
    let written = crate::client::runtime()?.block_on(simulate(&args.data, args.events, now))?;
    eprintln!(
        "wrote {written} entries to {} (checkpoint size {written})",
        args.data.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Fills `data` with `events` entries ending at `now`; returns the log's size.
pub async fn simulate(data: &std::path::Path, events: u64, now: Timestamp) -> anyhow::Result<u64> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create `{}`", data.display()))?;
    // The case store's schema, so that `writ serve` opens the folder as is.
    let url = format!("sqlite://{}", writ_tlog::database_path(data).display());
    drop(writ_store::Store::open(&url).await?);
    let log = writ_tlog::Log::open_dir(
        data,
        writ_tlog::Config {
            period: std::time::Duration::from_millis(250),
            ..writ_tlog::Config::default()
        },
    )
    .await?;
    let start_size = log.checkpoint().checkpoint.size;
    let mut generator = Generator::new(now)?;
    let bar = indicatif::ProgressBar::new(events);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut written = 0u64;
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(1 << 14);
    let mut pending: Option<tokio::task::JoinHandle<anyhow::Result<()>>> = None;
    while written < events {
        let at = generator.instant(written, events);
        for entry in generator.case(at)? {
            if written == events {
                break;
            }
            batch.push(entry);
            written += 1;
        }
        if batch.len() >= 1 << 14 || written == events {
            // Generate the next batch while this one is made durable.
            if let Some(p) = pending.take() {
                p.await??;
            }
            let log = log.clone();
            let entries = std::mem::take(&mut batch);
            pending = Some(tokio::spawn(async move {
                log.append_batch(entries).await?;
                anyhow::Ok(())
            }));
            bar.set_position(written);
        }
    }
    if let Some(p) = pending.take() {
        p.await??;
    }
    bar.finish_and_clear();
    let published = log.publish_now().await?;
    log.close().await?;
    debug_assert!(published.checkpoint.size >= start_size);
    Ok(published.checkpoint.size)
}

/// SplitMix64: the workload's choices (not its salts, which come from the
/// operating system).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Picks by weight.
    fn pick<'a, T>(&mut self, table: &'a [(T, f64)]) -> &'a T {
        let total: f64 = table.iter().map(|(_, w)| w).sum();
        let mut r = self.unit() * total;
        for (item, w) in table {
            if r < *w {
                return item;
            }
            r -= w;
        }
        // Rounding at the top end: the last item.
        &table[table.len() - 1].0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Fresh random salts, read from the operating system in blocks.
struct Salts {
    buf: Vec<u8>,
    at: usize,
}

impl Salts {
    fn take(&mut self) -> anyhow::Result<[u8; 32]> {
        if self.at + 32 > self.buf.len() {
            self.buf.resize(32 * 4096, 0);
            getrandom::fill(&mut self.buf).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
            self.at = 0;
        }
        let mut salt = [0u8; 32];
        salt.copy_from_slice(&self.buf[self.at..self.at + 32]);
        self.at += 32;
        Ok(salt)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Content,
    NonContent,
    NoData,
    Rejected,
}

/// Microsoft, H2 2021.
const FATES: &[(Fate, f64)] = &[
    (Fate::Content, 4.26),
    (Fate::NonContent, 51.59),
    (Fate::NoData, 18.97),
    (Fate::Rejected, 25.18),
];

/// Google's United States mix without the warrants that produce content
/// (those are drawn with the content outcome): 24 % of all requests are
/// warrants, 4.26 % of all requests disclose content.
const US_PROCESS: &[(&str, f64)] = &[
    ("subpoena", 67.0),
    ("search_warrant", 24.0 - 4.26),
    ("court_order", 6.5),
    ("emergency_request", 1.4),
    ("technical_assistance", 1.1),
];

const COUNTRIES: &[(&str, f64)] = &[
    ("US", 70.0),
    ("GB", 6.0),
    ("DE", 6.0),
    ("FR", 5.0),
    ("BR", 5.0),
    ("IN", 5.0),
    ("IE", 1.5),
    ("DK", 1.5),
];

/// Accounts named per request: a mean of 1.8.
const TARGETS: &[(u64, f64)] = &[(1, 0.5), (2, 0.3), (3, 0.15), (5, 0.05)];

/// The share of cases that are preservation requests (a separate stream).
const PRESERVATION_SHARE: f64 = 0.15;

struct Generator {
    mix: Mix,
    salts: Salts,
    start: i64,
    now: Timestamp,
    serial: u64,
}

impl Generator {
    fn new(now: Timestamp) -> anyhow::Result<Self> {
        let date = now.date_string();
        let (year, month) = (
            date.get(..4).unwrap_or("2026"),
            date.get(5..7)
                .and_then(|m| m.parse::<u32>().ok())
                .unwrap_or(1),
        );
        let first = if month <= 6 { "01" } else { "07" };
        let start = Timestamp::parse(&format!("{year}-{first}-01T00:00:00Z"))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
        Ok(Generator {
            mix: Mix(u64::from_le_bytes(seed)),
            salts: Salts {
                buf: Vec::new(),
                at: 0,
            },
            start: start.as_second(),
            now,
            serial: 0,
        })
    }

    /// Spreads cases evenly over the half-year up to now, with jitter.
    fn instant(&mut self, written: u64, total: u64) -> Timestamp {
        let span = (self.now.as_second() - self.start).max(1);
        let base = self.start + (span as f64 * written as f64 / total.max(1) as f64) as i64;
        let jitter = self.mix.below(3_600) as i64;
        Timestamp::from_second((base + jitter).min(self.now.as_second())).unwrap_or(self.now)
    }

    /// A commitment to canonical JSON details under a fresh salt.
    fn commit(&mut self, details: &str) -> anyhow::Result<Commitment> {
        let salt = Salt(self.salts.take()?);
        Ok(Commitment::of_canonical(&salt, details.as_bytes()))
    }

    /// The order-level commitment and one per target, as the gateway makes
    /// them (`docs/formats.md`): details in canonical JSON.
    fn commitments(&mut self, agency: &str, targets: u64) -> anyhow::Result<Vec<Commitment>> {
        let mut out = Vec::with_capacity(targets as usize + 1);
        let digest = hex::encode(self.salts.take()?);
        let order_level = format!(
            r#"{{"agency":"{agency}","order_sha256":"{digest}","reference":"SIM-{:08}","submitted_by":"{agency}"}}"#,
            self.serial
        );
        out.push(self.commit(&order_level)?);
        for t in 0..targets {
            let target = format!(
                r#"{{"date_range":null,"pairs":[],"target":"email:user{}-{t}@example.com"}}"#,
                self.serial
            );
            out.push(self.commit(&target)?);
        }
        Ok(out)
    }

    /// One entry of the case, through the event model.
    fn entry(
        &mut self,
        case: &str,
        at: Timestamp,
        deferred: bool,
        public: Public,
        agency: &str,
        targets: u64,
    ) -> anyhow::Result<Vec<u8>> {
        let mut event = Event::of_case(case, at, deferred, public);
        event.commitments = self.commitments(agency, targets)?;
        Ok(event.to_entry()?)
    }

    /// The entries of one case received at `at`.
    fn case(&mut self, at: Timestamp) -> anyhow::Result<Vec<Vec<u8>>> {
        self.serial += 1;
        let case = format!(
            "c-{}",
            hex::encode(self.salts.take()?.get(..8).unwrap_or(&[0; 8]))
        );
        let country = *self.mix.pick(COUNTRIES);
        let agency = format!("{}-sim", country.to_ascii_lowercase());
        let targets = *self.mix.pick(TARGETS);
        let preservation = self.mix.unit() < PRESERVATION_SHARE;
        let fate = *self.mix.pick(FATES);
        let european = matches!(country, "DE" | "FR" | "IE" | "DK");
        let instrument = if preservation {
            if european && self.mix.unit() < 0.3 {
                "epoc_pr"
            } else {
                "preservation_request"
            }
        } else if country == "US" {
            if fate == Fate::Content {
                "search_warrant"
            } else {
                *self.mix.pick(US_PROCESS)
            }
        } else if fate == Fate::Content {
            match country {
                "GB" => "uk_overseas_order",
                _ if european => "epoc",
                _ => "court_order",
            }
        } else if self.mix.unit() < 0.03 {
            "emergency_request"
        } else if european && self.mix.unit() < 0.3 {
            "epoc"
        } else {
            "court_order"
        };
        // European orders are deferred (Art. 13 of the Regulation): their
        // times are cut to the day.
        let deferred = matches!(instrument, "epoc" | "epoc_pr");
        let emergency = instrument == "emergency_request";
        let fate = if instrument == "technical_assistance" {
            Fate::Rejected
        } else {
            fate
        };
        // Data of foreign requesters is mostly stored in the United States.
        let abroad_share = if country == "US" { 0.02 } else { 0.8 };
        let abroad = (0..targets)
            .filter(|_| self.mix.unit() < abroad_share)
            .count() as u64;
        let due = if emergency {
            at.plus_hours(1)
        } else if preservation {
            at.plus_days(7)
        } else {
            at.plus_days(10)
        };
        let due_hour = writ_events::event::cut(due, deferred);
        let on_time = self.mix.unit() < 0.96;
        let answered = if on_time {
            at.plus_hours(1 + self.mix.below(if emergency { 0 } else { 200 }) as i64)
        } else {
            due.plus_hours(1 + self.mix.below(240) as i64)
        };
        let answered = if answered > due && on_time {
            due
        } else {
            answered
        };
        let done = answered <= self.now;

        let mut out = Vec::with_capacity(5);
        let received = Public::Received(Received {
            country: Some(country.to_owned()),
            instrument: Instrument::parse(instrument)
                .with_context(|| format!("unknown instrument `{instrument}`"))?,
            emergency,
            targets,
            gag: false,
        });
        out.push(self.entry(&case, at, deferred, received, &agency, targets)?);
        let decided = |outcome: Outcome,
                       reasons: &[&str],
                       accounts: u64,
                       granted: Granted,
                       ends: Option<bool>| {
            Public::Decided(Decided {
                outcome,
                reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
                accounts,
                accounts_abroad: abroad.min(accounts),
                granted,
                due_hour,
                on_time: ends,
            })
        };
        let reviewed = |action: &str, role: &str, outcome: Outcome, granted: Granted, on_time| {
            Public::Reviewed(Reviewed {
                action: action.to_owned(),
                role: role.to_owned(),
                outcome,
                granted,
                on_time,
            })
        };
        let disclosed = |disclosed: Granted| Public::Disclosed(Disclosed { disclosed, on_time });
        let e = |g: &mut Self, at, public| g.entry(&case, at, deferred, public, &agency, targets);
        let none = Granted::new;
        let subscriber = || Granted::from([("subscriber".to_owned(), targets)]);
        if preservation {
            let p = decided(Outcome::Approve, &[], targets, subscriber(), None);
            out.push(e(self, at, p)?);
            if done {
                let p = Public::Preserved(Preserved {
                    accounts: targets,
                    until_day: Some(answered.plus_days(90).date_string()),
                    on_time,
                });
                out.push(e(self, answered, p)?);
            }
            return Ok(out);
        }
        if emergency {
            let p = decided(
                Outcome::Review,
                &["emergency_unverified"],
                targets,
                none(),
                None,
            );
            out.push(e(self, at, p)?);
            let p = Public::Verified(Verified {
                result: "verified".into(),
                number_source: "registry".into(),
                check: None,
            });
            out.push(e(self, at, p)?);
        }
        match fate {
            Fate::Rejected => {
                let reason = if instrument == "technical_assistance" {
                    "hacking_refused"
                } else {
                    "category_not_authorized"
                };
                if self.mix.unit() < 0.2 {
                    // Refused by people: a proposal and a second approver.
                    let p = decided(Outcome::Review, &["content_review"], targets, none(), None);
                    out.push(e(self, at, p)?);
                    if done {
                        let p = reviewed("reject", "reviewer", Outcome::Review, none(), None);
                        out.push(e(self, answered, p)?);
                        let p = reviewed(
                            "confirm",
                            "approver",
                            Outcome::Reject,
                            none(),
                            Some(on_time),
                        );
                        out.push(e(self, answered, p)?);
                    }
                } else {
                    let p = decided(Outcome::Reject, &[reason], targets, none(), Some(true));
                    out.push(e(self, at, p)?);
                }
            }
            Fate::NoData => {
                let p = decided(Outcome::NoData, &["no_data_found"], 0, none(), Some(true));
                out.push(e(self, at, p)?);
            }
            Fate::NonContent => {
                let p = decided(Outcome::Approve, &[], targets, subscriber(), None);
                out.push(e(self, at, p)?);
                if done {
                    out.push(e(self, answered, disclosed(subscriber()))?);
                }
            }
            Fate::Content => {
                let mut granted = subscriber();
                granted.insert("content".to_owned(), targets);
                let p = decided(Outcome::Approve, &[], targets, granted.clone(), None);
                out.push(e(self, at, p)?);
                if done {
                    let p = reviewed(
                        "approve",
                        "reviewer",
                        Outcome::Approve,
                        granted.clone(),
                        None,
                    );
                    out.push(e(self, answered, p)?);
                    let p = reviewed(
                        "confirm",
                        "approver",
                        Outcome::Approve,
                        granted.clone(),
                        None,
                    );
                    out.push(e(self, answered, p)?);
                    out.push(e(self, answered, disclosed(granted))?);
                }
            }
        }
        Ok(out)
    }
}
