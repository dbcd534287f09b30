//! Delivery: legal holds in the provider's systems, collection, sealing,
//! availability and expiry of packages (`docs/product.md`, lifecycle steps 5–7).
//!
//! The worker is driven by durable state only, so that a crash loses
//! nothing: a case whose version is ahead of its `fulfilment` row has work
//! waiting. For such a case the worker
//!
//! 1. places the holds its `preserve` pairs call for, in the provider's
//!    holds table, until `preserve_until` (placing again only extends);
//! 2. works out the pairs it may release ([`releasable`]) and, when that
//!    adds to what was released before, collects every pair released so far
//!    through the connector (resuming an interrupted run), seals the package
//!    to the agency's age recipient, and records it with its `disclosed`
//!    event in one transaction.
//!
//! A package is served from `max(now, not_before)` until its expiry; then
//! the object is deleted and an `expired` event logged. Holds whose time has
//! come are logged as `released` once.
//!
//! Packages are objects (a folder or a bucket, like the log's). Each sealing
//! writes an object of its own name (`<case>-<generation>-<random>.age`), so
//! that no write ever replaces a package another attempt recorded; the
//! package row names the one that counts, and objects no row names are
//! swept when this server starts delivering, and hourly while it does.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::Instrument as _;
use writ_connect::{Connector, Holds, Job, Scope};
use writ_model::{CaseStatus, Category, Decision, PackageState, Status, Timestamp};
use writ_objects::{LocalDir, ObjectReader, ObjectStorage, layout};
use writ_seal::{PackageHeader, Recipient};
use writ_store::{Case, CaseRow, DueColumn, Fulfilled, HoldRow, PackageRow};

use crate::events::{self, CaseContext};
use crate::{Gateway, GatewayError, Result, epoch, from_epoch};

/// A warning of the delivery worker, through `tracing`.
macro_rules! complain {
    ($($arg:tt)*) => {
        tracing::warn!($($arg)*)
    };
}

/// The provider's side: where records come from and where holds go.
#[derive(Clone)]
pub struct Provider {
    pub connector: Arc<dyn Connector>,
    pub holds: Holds,
}

/// How delivery runs.
#[derive(Clone)]
pub struct DeliveryConfig {
    pub provider: Provider,
    /// Where sealed packages are kept: a folder or a bucket.
    pub packages: Arc<dyn ObjectStorage>,
    /// A folder on this machine for collections in progress, and for
    /// packages sealed here before they go up to a bucket.
    pub work: PathBuf,
    /// How long a package may be downloaded once available.
    pub package_ttl: Duration,
    /// How often the worker looks for due packages and lapsed holds when
    /// nothing wakes it.
    pub tick: Duration,
    /// Where user notices go; `None`: no notices.
    pub notices: Option<crate::notice::NoticeConfig>,
    /// Where agency notifications go (each agency's own address and
    /// webhook, set by admins) and what they link to.
    pub agency_notices: crate::agency_notice::AgencyNoticeConfig,
}

impl DeliveryConfig {
    pub fn new(
        provider: Provider,
        packages: Arc<dyn ObjectStorage>,
        work: impl Into<PathBuf>,
    ) -> Self {
        Self {
            provider,
            packages,
            work: work.into(),
            package_ttl: Duration::from_secs(30 * 24 * 3600),
            tick: Duration::from_secs(1),
            notices: None,
            agency_notices: crate::agency_notice::AgencyNoticeConfig::default(),
        }
    }

    /// Everything in one local objects folder: packages in `packages/`,
    /// collections in progress in `work/`.
    pub fn in_folder(provider: Provider, objects: impl Into<PathBuf>) -> Self {
        let objects = objects.into();
        Self::new(
            provider,
            Arc::new(LocalDir::new(objects.join(layout::PACKAGES))),
            objects.join(layout::WORK),
        )
    }
}

/// How old an object no package row names must be before the sweep
/// deletes it: younger ones may be an upload whose row is being written.
const ORPHAN_AGE_SECS: i64 = 3600;

pub(crate) struct Delivery {
    config: DeliveryConfig,
    /// Cases whose last attempt failed: the version tried and when to try
    /// again, so that a failing case does not spin.
    backoff: Mutex<HashMap<String, (i64, std::time::Instant, u32)>>,
    /// One pass at a time in this process: two passes would seal the same
    /// case twice.
    running: tokio::sync::Mutex<()>,
    /// Where the agency notifications' last look stopped.
    agency_watermark: crate::agency_notice::Watermark,
}

/// A package ready to be served.
#[derive(Clone, Debug)]
pub struct PackageFile {
    /// Its object's name in the packages storage.
    pub object: String,
    pub sha256: String,
    pub size: u64,
    pub generation: i64,
}

/// What one pass of the worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub fulfilled: usize,
    pub sealed: usize,
    pub made_available: usize,
    pub expired: usize,
    pub holds_released: usize,
    pub notified: usize,
    pub agencies_notified: usize,
    pub failed: usize,
}

impl Pass {
    /// How many things the pass did; when any, more may be waiting.
    pub fn work(&self) -> usize {
        self.fulfilled
            + self.made_available
            + self.expired
            + self.holds_released
            + self.notified
            + self.agencies_notified
    }
}

/// The (account, category) pairs a case may release now (`docs/product.md`,
/// "Review"): granted pairs other than `content` at once; granted `content`
/// only once a second person confirmed (`approved` or `narrowed`); nothing
/// while an emergency is unverified, and nothing of a rejected or withdrawn
/// case.
pub fn releasable(status: CaseStatus, decision: &Decision) -> BTreeSet<(String, Category)> {
    if decision.awaits_callback() || decision.awaits_channel() || !status.may_release() {
        return BTreeSet::new();
    }
    let content_confirmed = status.is_confirmed();
    decision
        .decisions
        .iter()
        .filter(|p| p.status == Status::Grant)
        .filter(|p| content_confirmed || p.category != Category::Content)
        .filter_map(|p| p.account.clone().map(|a| (a, p.category)))
        .collect()
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> GatewayError {
    GatewayError::Internal(format!("{what} `{}`: {e}", path.display()))
}

fn parse_pairs(text: &str) -> Result<BTreeSet<(String, Category)>> {
    let raw: Vec<(String, String)> = serde_json::from_str(text)?;
    raw.into_iter()
        .map(|(a, c)| {
            Category::parse(&c)
                .map(|c| (a, c))
                .ok_or_else(|| GatewayError::Internal(format!("unknown category `{c}`")))
        })
        .collect()
}

fn pairs_json(pairs: &BTreeSet<(String, Category)>) -> Result<String> {
    let raw: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, c)| (a.as_str(), c.as_str()))
        .collect();
    Ok(serde_json::to_string(&raw)?)
}

/// The decision cut down to the released pairs: what a `disclosed` event
/// counts and commits to.
fn released_part(decision: &Decision, pairs: &BTreeSet<(String, Category)>) -> Decision {
    let mut d = decision.clone();
    d.decisions.retain(|p| {
        p.account
            .as_ref()
            .is_some_and(|a| pairs.contains(&(a.clone(), p.category)))
    });
    d
}

fn context<'a>(case: &'a Case, country: Option<&'a str>) -> CaseContext<'a> {
    CaseContext {
        case_id: &case.id,
        order: &case.order,
        order_sha256: &case.order_sha256,
        submitter: &case.signer,
        country,
    }
}

/// A stored case with what its log events need.
struct Loaded {
    case: Case,
    country: Option<String>,
    /// Whether its events are held back now.
    defer: bool,
}

impl Loaded {
    fn ctx(&self) -> CaseContext<'_> {
        context(&self.case, self.country.as_deref())
    }
}

impl Gateway {
    /// Turns on delivery. Call once, before running the worker
    /// (`writ_runtime::Delivery`); later calls are refused.
    pub fn enable_delivery(&self, config: DeliveryConfig) -> Result<()> {
        std::fs::create_dir_all(&config.work)
            .map_err(|e| io_error("cannot create", &config.work, e))?;
        self.inner
            .delivery
            .set(Arc::new(Delivery {
                config,
                backoff: Mutex::new(HashMap::new()),
                running: tokio::sync::Mutex::new(()),
                agency_watermark: Default::default(),
            }))
            .map_err(|_| GatewayError::Internal("delivery is already enabled".into()))
    }

    fn delivery(&self) -> Result<&Arc<Delivery>> {
        self.inner
            .delivery
            .get()
            .ok_or_else(|| GatewayError::Internal("delivery is not enabled".into()))
    }

    /// Resolves when a case may have changed since the last call: the
    /// delivery worker's cue for a pass.
    pub async fn delivery_wanted(&self) {
        self.inner.delivery_wake.notified().await;
    }

    /// One pass of the worker: fulfil changed cases, make due packages
    /// available, expire old ones, log lapsed holds.
    pub async fn deliver_once(&self) -> Result<Pass> {
        self.deliver_at(Timestamp::now()).await
    }

    /// [`Gateway::deliver_once`] with availability, expiry and lapses
    /// judged at `now` (events carry `now` too).
    pub async fn deliver_at(&self, now: Timestamp) -> Result<Pass> {
        let delivery = self.delivery()?.clone();
        let _one = delivery.running.lock().await;
        let mut pass = Pass::default();
        for row in self.store().cases_to_fulfil(16).await? {
            if self.backing_off(&row) {
                continue;
            }
            let span = tracing::info_span!("case", case = %row.id);
            match self.fulfil(&row).instrument(span.clone()).await {
                Ok(sealed) => {
                    pass.fulfilled += 1;
                    pass.sealed += usize::from(sealed);
                    self.clear_backoff(&row.id);
                }
                Err(e) => {
                    let _entered = span.enter();
                    complain!(error = %e, "cannot deliver the case");
                    pass.failed += 1;
                    self.back_off(&row);
                }
            }
        }
        for p in self
            .store()
            .packages_due(PackageState::Sealed, DueColumn::AvailableAt, epoch(now), 64)
            .await?
        {
            let span = tracing::info_span!("case", case = %p.case_id);
            pass.made_available +=
                usize::from(self.make_available(&p, now).instrument(span).await?);
        }
        for p in self
            .store()
            .packages_due(PackageState::Ready, DueColumn::ExpiresAt, epoch(now), 64)
            .await?
        {
            let span = tracing::info_span!("case", case = %p.case_id);
            pass.expired += usize::from(self.expire(&p, now).instrument(span).await?);
        }
        for h in self
            .store()
            .open_holds(writ_connect::holds::OPEN_ENDED_S, 64)
            .await?
        {
            let span = tracing::info_span!("case", case = %h.case_id);
            self.end_open_hold(&h, now).instrument(span).await?;
        }
        for h in self.store().lapsed_holds(epoch(now), 64).await? {
            let span = tracing::info_span!("case", case = %h.case_id);
            pass.holds_released += usize::from(self.log_release(&h, now).instrument(span).await?);
        }
        if pass.holds_released > 0 {
            delivery
                .config
                .provider
                .holds
                .lapse_holds(now)
                .await
                .map_err(|e| GatewayError::Internal(format!("holds: {e}")))?;
        }
        if let Some(notices) = &delivery.config.notices {
            pass.notified = self.notify_due(notices, now).await?;
        }
        pass.agencies_notified = self
            .notify_agencies(
                &delivery.config.agency_notices,
                &delivery.agency_watermark,
                now,
            )
            .await?;
        if pass.work() > 0 {
            self.events_written();
        }
        Ok(pass)
    }

    fn backing_off(&self, row: &CaseRow) -> bool {
        let Ok(d) = self.delivery() else { return true };
        let Ok(map) = d.backoff.lock() else {
            return false;
        };
        map.get(&row.id).is_some_and(|(version, until, _)| {
            *version == row.version && std::time::Instant::now() < *until
        })
    }

    fn back_off(&self, row: &CaseRow) {
        if let Ok(d) = self.delivery()
            && let Ok(mut map) = d.backoff.lock()
        {
            let tries = map.get(&row.id).map_or(0, |(_, _, n)| *n) + 1;
            let wait = Duration::from_secs(1 << (tries - 1).min(8));
            map.insert(
                row.id.clone(),
                (row.version, std::time::Instant::now() + wait, tries),
            );
        }
    }

    fn clear_backoff(&self, case_id: &str) {
        if let Ok(d) = self.delivery()
            && let Ok(mut map) = d.backoff.lock()
        {
            map.remove(case_id);
        }
    }

    /// Does what one version of a case calls for; `true` when a new package
    /// was sealed.
    async fn fulfil(&self, row: &CaseRow) -> Result<bool> {
        let delivery = self.delivery()?.clone();
        let case = Case::from_row(row)?;
        let (order, decision) = (&case.order, &case.decision);
        let now = Timestamp::now();

        // 1. Holds.
        if let Some(until) = decision.preserve_until {
            let held = crate::lifecycle::held_accounts(
                decision
                    .decisions
                    .iter()
                    .filter(|p| p.status == Status::Preserve),
            );
            if until > now {
                for (account, categories) in held {
                    delivery
                        .config
                        .provider
                        .holds
                        .place(&row.id, account, &categories, until)
                        .await
                        .map_err(|e| GatewayError::Internal(format!("holds: {e}")))?;
                }
            }
        }

        // A hold without an end date while the order waits for its
        // clarification (Art. 10(9)), placed in the provider's systems.
        if self
            .store()
            .open_hold(&row.id, writ_connect::holds::OPEN_ENDED_S)
            .await?
            .is_some()
            && crate::lifecycle::case_open(&case)
        {
            for (account, categories) in crate::lifecycle::held_accounts(&decision.decisions) {
                delivery
                    .config
                    .provider
                    .holds
                    .place(
                        &row.id,
                        account,
                        &categories,
                        writ_connect::holds::open_ended(),
                    )
                    .await
                    .map_err(|e| GatewayError::Internal(format!("holds: {e}")))?;
            }
        }

        // 2. The package.
        let existing = self.store().package(&row.id).await?;
        let before = match &existing {
            Some(p) => parse_pairs(&p.pairs)?,
            None => BTreeSet::new(),
        };
        let mut pairs = before.clone();
        pairs.extend(releasable(case.status, decision));
        if pairs == before {
            self.store()
                .save_fulfilment(&Fulfilled {
                    case_id: row.id.clone(),
                    case_version: row.version,
                    package: None,
                    events: Vec::new(),
                    at: epoch(now),
                })
                .await?;
            return Ok(false);
        }

        let agency =
            self.store().agency(&row.agency_id).await?.ok_or_else(|| {
                GatewayError::Internal(format!("agency `{}` is gone", row.agency_id))
            })?;
        let recipient: Recipient = agency
            .age_recipient
            .as_deref()
            .ok_or_else(|| {
                GatewayError::Conflict(format!(
                    "agency `{}` has no age recipient to seal to",
                    agency.id
                ))
            })?
            .parse()
            .map_err(|e| GatewayError::Internal(format!("agency's age recipient: {e}")))?;
        let generation = existing.as_ref().map_or(1, |p| p.generation + 1);
        let object = package_object(&row.id, generation);
        // Sealed in place on a local folder; else sealed here and uploaded.
        let local = delivery.config.packages.local_path(&object);
        let dest = local
            .clone()
            .unwrap_or_else(|| delivery.config.work.join(&object));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
        }
        let job = Job {
            header: PackageHeader {
                case: row.id.clone(),
                order_sha256: row.order_sha256.clone(),
                // The case version's time, not the clock's: a resumed
                // collection must describe the same job.
                created_at: from_epoch(row.updated_at)?,
            },
            scope: Scope::new(pairs.iter().cloned(), order.date_range),
            recipient,
            work_dir: delivery
                .config
                .work
                .join(format!("{}-{generation}", row.id)),
            dest: dest.clone(),
        };
        let connector = delivery.config.provider.connector.clone();
        let collected =
            tokio::task::spawn_blocking(move || writ_connect::collect(&job, &*connector))
                .await
                .map_err(|e| GatewayError::Internal(format!("collection task: {e}")))?
                .map_err(|e| GatewayError::Internal(format!("collection: {e}")))?;
        if local.is_none() {
            let uploaded = delivery
                .config
                .packages
                .put_file(object.clone(), dest.clone())
                .await;
            remove_quietly(&dest);
            uploaded.map_err(|e| GatewayError::Internal(format!("storing the package: {e}")))?;
        }
        if collected.dropped.total() > 0 {
            complain!(
                dropped = collected.dropped.total(),
                "the connector returned records outside the scope; they were dropped"
            );
        }

        let now = Timestamp::now();
        let available = decision.not_before.map_or(now, |nb| nb.max(now));
        let ttl = i64::try_from(delivery.config.package_ttl.as_secs()).unwrap_or(i64::MAX);
        let ready = available <= now;
        let mut evs = Vec::new();
        if ready {
            let country = self.signer_country(&case.signer).await?;
            let ctx = context(&case, country.as_deref());
            let defer = self.defer_for(&row.id, order, decision).await?;
            evs.push(events::disclosed(
                &ctx,
                &released_part(decision, &pairs),
                &collected.sealed.sha256,
                generation,
                now,
                defer,
            )?);
        }
        let package = PackageRow {
            case_id: row.id.clone(),
            agency_id: row.agency_id.clone(),
            generation,
            object,
            pairs: pairs_json(&pairs)?,
            sha256: collected.sealed.sha256.clone(),
            size: i64::try_from(collected.sealed.size).unwrap_or(i64::MAX),
            state: if ready {
                PackageState::Ready
            } else {
                PackageState::Sealed
            },
            available_at: epoch(available),
            expires_at: epoch(available).saturating_add(ttl),
            created_at: epoch(now),
            files: serde_json::to_string(&collected.sealed.manifest.files)
                .map_err(|e| GatewayError::Internal(format!("manifest files: {e}")))?,
        };
        self.store()
            .save_fulfilment(&Fulfilled {
                case_id: row.id.clone(),
                case_version: row.version,
                package: Some(package),
                events: evs,
                at: epoch(now),
            })
            .await?;
        if let Some(old) = existing {
            delete_quietly(&*delivery.config.packages, &old.object).await;
        }
        Ok(true)
    }

    /// A case by id, loaded for its events; `None` if it is gone.
    async fn load(&self, case_id: &str) -> Result<Option<Loaded>> {
        let Some(case) = self.store().load_case(case_id).await? else {
            return Ok(None);
        };
        let country = self.signer_country(&case.signer).await?;
        let defer = self
            .defer_for(&case.id, &case.order, &case.decision)
            .await?;
        Ok(Some(Loaded {
            case,
            country,
            defer,
        }))
    }

    /// A sealed package whose `not_before` has come: served from now on,
    /// with its `disclosed` event.
    async fn make_available(&self, p: &PackageRow, now: Timestamp) -> Result<bool> {
        let Some(c) = self.load(&p.case_id).await? else {
            return Ok(false);
        };
        let pairs = parse_pairs(&p.pairs)?;
        let event = events::disclosed(
            &c.ctx(),
            &released_part(&c.case.decision, &pairs),
            &p.sha256,
            p.generation,
            now,
            c.defer,
        )?;
        Ok(self
            .store()
            .move_package(
                &p.case_id,
                p.generation,
                PackageState::Sealed,
                PackageState::Ready,
                &[event],
            )
            .await?)
    }

    /// A package past its download window: deleted, with an `expired` event.
    async fn expire(&self, p: &PackageRow, now: Timestamp) -> Result<bool> {
        let delivery = self.delivery()?.clone();
        let Some(c) = self.load(&p.case_id).await? else {
            return Ok(false);
        };
        let event = events::expired(&c.ctx(), now, c.defer)?;
        let moved = self
            .store()
            .move_package(
                &p.case_id,
                p.generation,
                PackageState::Ready,
                PackageState::Expired,
                &[event],
            )
            .await?;
        if moved {
            delete_quietly(&*delivery.config.packages, &p.object).await;
        }
        Ok(moved)
    }

    /// Ends a hold without an end date (an Art. 10(9) preservation while a
    /// European Production Order waits for its clarification) once its
    /// case has ended, a package was sealed for it after it was placed (in
    /// a later second: one sealed in the same second may predate it, and
    /// keeping the hold until the case ends errs on the safe side), or a
    /// package was sealed for a case whose order corrects it (the data was
    /// produced on the corrected certificate): the data was produced, or
    /// will never be. The lapse is then logged like any other.
    async fn end_open_hold(&self, h: &HoldRow, now: Timestamp) -> Result<()> {
        let Some(case) = self.store().load_case(&h.case_id).await? else {
            return Ok(());
        };
        // Every pass asks this of every such hold: the corrections are one
        // indexed lookup, and the case's events are read only once a package
        // exists, to tell when the hold was placed.
        if crate::lifecycle::case_open(&case) && !self.produced_on_correction(&case.id).await? {
            let Some(package) = self.store().package(&h.case_id).await? else {
                return Ok(());
            };
            let placed = self
                .store()
                .events_for_case(&h.case_id)
                .await?
                .into_iter()
                .filter(|e| {
                    e.kind == "preserved"
                        && serde_json::from_str::<serde_json::Value>(&e.entry)
                            .is_ok_and(|v| v["public"]["until_day"].is_null())
                })
                .map(|e| e.created_at)
                .max()
                .unwrap_or(i64::MAX);
            if package.created_at <= placed {
                return Ok(());
            }
        }
        let delivery = self.delivery()?;
        delivery
            .config
            .provider
            .holds
            .end_open(&h.case_id, now)
            .await
            .map_err(|e| GatewayError::Internal(format!("holds: {e}")))?;
        self.store().end_open_hold(h, epoch(now)).await?;
        Ok(())
    }

    /// Whether a package was sealed for a case whose order corrects case
    /// `case_id` (Art. 10(9): the data was produced on the basis of the
    /// clarified certificate).
    async fn produced_on_correction(&self, case_id: &str) -> Result<bool> {
        let (_, corrected_by) = self.store().corrections(case_id).await?;
        for id in corrected_by {
            if self.store().package(&id).await?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Logs a hold's lapse once.
    async fn log_release(&self, h: &HoldRow, now: Timestamp) -> Result<bool> {
        let Some(c) = self.load(&h.case_id).await? else {
            return Ok(false);
        };
        let accounts: Vec<String> = serde_json::from_str(&h.accounts)?;
        let event = events::released(&c.ctx(), accounts.len(), now, c.defer)?;
        Ok(self
            .store()
            .mark_hold_released(h, epoch(now), &[event])
            .await?)
    }

    /// Deletes package objects that no live package row names (a replaced
    /// generation, an expiry interrupted before the object was deleted, an
    /// upload whose row was never written) once they are an hour old, and
    /// packages left in the work folder by an interrupted upload.
    /// Returns how many objects it deleted. Runs each time this server
    /// becomes the one that delivers, and every hour while it is.
    pub async fn sweep_packages(&self, now: Timestamp) -> Result<usize> {
        let delivery = self.delivery()?.clone();
        let _one = delivery.running.lock().await;
        let storage_err =
            |e: writ_objects::StorageError| GatewayError::Internal(format!("packages: {e}"));
        let mut removed = 0;
        for listed in delivery.config.packages.list().await.map_err(storage_err)? {
            if listed.modified > epoch(now) - ORPHAN_AGE_SECS || self.is_live(&listed.path).await? {
                continue;
            }
            delivery
                .config
                .packages
                .delete(listed.path)
                .await
                .map_err(storage_err)?;
            removed += 1;
        }
        let work = &delivery.config.work;
        let entries = std::fs::read_dir(work).map_err(|e| io_error("cannot list", work, e))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".age") {
                remove_quietly(&entry.path());
            }
        }
        Ok(removed)
    }

    /// Whether a package object is the one a live package row names.
    async fn is_live(&self, object: &str) -> Result<bool> {
        let Some(stem) = object.strip_suffix(".age") else {
            return Ok(false);
        };
        // `<case>-<generation>-<random>`, or `<case>-<generation>` as
        // earlier versions named them.
        let mut candidates = Vec::new();
        if let Some((rest, _)) = stem.rsplit_once('-') {
            candidates.push(rest);
            if let Some((case, _)) = rest.rsplit_once('-') {
                candidates.push(case);
            }
        }
        for case in candidates {
            if self
                .store()
                .package(case)
                .await?
                .is_some_and(|p| p.object == object && p.state != PackageState::Expired)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The package of `case_id` for the agency that owns it.
    pub async fn agency_package(&self, agency: &str, case_id: &str) -> Result<PackageFile> {
        let not_found = || GatewayError::NotFound(format!("case `{case_id}`"));
        let case = self
            .store()
            .load_case(case_id)
            .await?
            .ok_or_else(not_found)?;
        if case.signer != agency {
            return Err(not_found());
        }
        // Suspension means nothing leaves; the package stays, with its
        // deadline, in case the production is still legally compelled.
        if !self.agency_may_be_served(agency).await? {
            return Err(GatewayError::Forbidden(format!(
                "agency `{agency}` is not verified in the registry; no package is served to it"
            )));
        }
        if self.delivery().is_err() {
            return Err(GatewayError::NotFound(format!(
                "a package for case `{case_id}` (this server collects no data)"
            )));
        }
        let Some(p) = self.store().package(case_id).await? else {
            return Err(GatewayError::NotFound(format!(
                "a package for case `{case_id}` (none is ready yet)"
            )));
        };
        match p.state {
            PackageState::Ready => {}
            PackageState::Sealed => {
                return Err(GatewayError::Conflict(format!(
                    "the package of case `{case_id}` is available from {}",
                    from_epoch(p.available_at)?
                )));
            }
            PackageState::Expired => {
                return Err(GatewayError::Gone(format!(
                    "the package of case `{case_id}` expired at {} and was deleted",
                    from_epoch(p.expires_at)?
                )));
            }
        }
        Ok(PackageFile {
            object: p.object,
            sha256: p.sha256,
            size: u64::try_from(p.size).unwrap_or(0),
            generation: p.generation,
        })
    }
}

impl Gateway {
    /// Opens a package for reading, as stored.
    pub async fn open_package(&self, file: &PackageFile) -> Result<ObjectReader> {
        let delivery = self.delivery()?;
        let reader = delivery
            .config
            .packages
            .get_stream(file.object.clone())
            .await
            .map_err(|e| GatewayError::Internal(format!("package `{}`: {e}", file.object)))?
            .ok_or_else(|| {
                GatewayError::Gone(format!("the package `{}` is no longer stored", file.object))
            })?;
        if reader.size != file.size {
            return Err(GatewayError::Internal(format!(
                "package `{}` holds {} bytes, {} were sealed",
                file.object, reader.size, file.size
            )));
        }
        Ok(reader)
    }
}

/// A fresh object name for a case's package of one generation.
fn package_object(case: &str, generation: i64) -> String {
    let mut rnd = [0u8; 6];
    let _ = getrandom::fill(&mut rnd);
    format!("{case}-{generation}-{}.age", hex::encode(rnd))
}

async fn delete_quietly(packages: &dyn ObjectStorage, object: &str) {
    if let Err(e) = packages.delete(object.to_owned()).await {
        complain!("cannot delete package `{object}`: {e}");
    }
}

fn remove_quietly(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        complain!("cannot remove `{}`: {e}", path.display());
    }
}
