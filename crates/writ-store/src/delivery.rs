//! Delivery rows: which case versions the delivery worker has fulfilled,
//! the sealed packages, and the logging of lapsed holds.
//!
//! Every change here is written with its log events in one transaction, as
//! case changes are.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use writ_model::{NoticeState, PackageState};

use crate::{
    CASE_COLUMNS, CaseRow, HoldRow, NewEvent, Result, Store, StoreError, get, insert_event,
};

const PACKAGE_COLUMNS: &str = "case_id, agency_id, generation, object, pairs, sha256, size, \
     state, available_at, expires_at, created_at, files";

/// A case's current package.
#[derive(Clone, Debug, PartialEq)]
pub struct PackageRow {
    pub case_id: String,
    /// The agency that owns the case.
    pub agency_id: String,
    /// 1 for the case's first package, then one more per replacement.
    pub generation: i64,
    /// The object's name under the objects folder's `packages/`.
    pub object: String,
    /// JSON array of `[account, category]`: every pair released so far.
    pub pairs: String,
    /// SHA-256 (lowercase hex) of the age file as served.
    pub sha256: String,
    pub size: i64,
    pub state: PackageState,
    pub available_at: i64,
    pub expires_at: i64,
    pub created_at: i64,
    /// JSON array of the manifest's files (`{path, sha256, records}`), as
    /// sealed into the package.
    pub files: String,
}

impl PackageRow {
    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            case_id: get(r, 0)?,
            agency_id: get(r, 1)?,
            generation: get(r, 2)?,
            object: get(r, 3)?,
            pairs: get(r, 4)?,
            sha256: get(r, 5)?,
            size: get(r, 6)?,
            state: {
                let st: String = get(r, 7)?;
                PackageState::parse(&st).ok_or(StoreError::Corrupt("packages", st))?
            },
            available_at: get(r, 8)?,
            expires_at: get(r, 9)?,
            created_at: get(r, 10)?,
            files: get(r, 11)?,
        })
    }
}

/// What the worker did for one version of a case.
#[derive(Clone, Debug, Default)]
pub struct Fulfilled {
    pub case_id: String,
    pub case_version: i64,
    /// A new package, replacing the case's earlier one.
    pub package: Option<PackageRow>,
    pub events: Vec<NewEvent>,
    pub at: i64,
}

impl Store {
    /// Cases with work for the delivery worker: open (not rejected or
    /// withdrawn) and changed since the worker last fulfilled them. Oldest
    /// change first, emergencies before the rest.
    pub async fn cases_to_fulfil(&self, limit: i64) -> Result<Vec<CaseRow>> {
        let columns = CASE_COLUMNS
            .split(", ")
            .map(|c| format!("c.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {columns} FROM cases c LEFT JOIN fulfilment f ON f.case_id = c.id \
             WHERE c.status IN ('decided', 'in_review', 'approved', 'narrowed') \
             AND (f.case_id IS NULL OR f.case_version < c.version) \
             ORDER BY c.emergency DESC, c.updated_at, c.id LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(CaseRow::from_row).collect()
    }

    /// Records what the worker did for a case version, with its package
    /// and events, in one transaction.
    pub async fn save_fulfilment(&self, f: &Fulfilled) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO fulfilment (case_id, case_version, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (case_id) DO UPDATE SET case_version = excluded.case_version, \
             updated_at = excluded.updated_at",
        )
        .bind(&f.case_id)
        .bind(f.case_version)
        .bind(f.at)
        .execute(&mut *tx)
        .await?;
        if let Some(p) = &f.package {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO packages ({PACKAGE_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (case_id) DO UPDATE SET generation = excluded.generation, \
                 object = excluded.object, pairs = excluded.pairs, sha256 = excluded.sha256, \
                 size = excluded.size, state = excluded.state, \
                 available_at = excluded.available_at, expires_at = excluded.expires_at, \
                 created_at = excluded.created_at, files = excluded.files"
            )))
            .bind(&p.case_id)
            .bind(&p.agency_id)
            .bind(p.generation)
            .bind(&p.object)
            .bind(&p.pairs)
            .bind(&p.sha256)
            .bind(p.size)
            .bind(p.state.as_str())
            .bind(p.available_at)
            .bind(p.expires_at)
            .bind(p.created_at)
            .bind(&p.files)
            .execute(&mut *tx)
            .await?;
        }
        for e in &f.events {
            insert_event(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn package(&self, case_id: &str) -> Result<Option<PackageRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PACKAGE_COLUMNS} FROM packages WHERE case_id = $1"
        )))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| PackageRow::from_row(&r)).transpose()
    }

    /// Packages in `state` whose `column` time (`available_at` or
    /// `expires_at`) has come.
    pub async fn packages_due(
        &self,
        state: PackageState,
        column: DueColumn,
        now: i64,
        limit: i64,
    ) -> Result<Vec<PackageRow>> {
        let column = match column {
            DueColumn::AvailableAt => "available_at",
            DueColumn::ExpiresAt => "expires_at",
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PACKAGE_COLUMNS} FROM packages WHERE state = $1 AND {column} <= $2 \
             ORDER BY {column}, case_id LIMIT $3"
        )))
        .bind(state.as_str())
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(PackageRow::from_row).collect()
    }

    /// Moves a package from one state to another with its events; `false`
    /// (and nothing written) when it is no longer in `from` at that
    /// generation.
    pub async fn move_package(
        &self,
        case_id: &str,
        generation: i64,
        from: PackageState,
        to: PackageState,
        events: &[NewEvent],
    ) -> Result<bool> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE packages SET state = $4 WHERE case_id = $1 AND generation = $2 AND state = $3",
        )
        .bind(case_id)
        .bind(generation)
        .bind(from.as_str())
        .bind(to.as_str())
        .execute(&mut *tx)
        .await?;
        commit_if_changed(tx, done.rows_affected(), events).await
    }

    /// Case `case_id`'s hold without an end date that is still in force,
    /// if it has one (`open_until` is the value such a hold carries).
    pub async fn open_hold(&self, case_id: &str, open_until: i64) -> Result<Option<HoldRow>> {
        let row = sqlx::query(
            "SELECT agency_id, reference, case_id, instrument, accounts, preserve_until, renewals \
             FROM holds WHERE case_id = $1 AND preserve_until = $2 AND released_at IS NULL",
        )
        .bind(case_id)
        .bind(open_until)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| HoldRow::from_row(&r)).transpose()
    }

    /// Every hold without an end date still in force.
    pub async fn open_holds(&self, open_until: i64, limit: i64) -> Result<Vec<HoldRow>> {
        let rows = sqlx::query(
            "SELECT agency_id, reference, case_id, instrument, accounts, preserve_until, renewals \
             FROM holds WHERE preserve_until = $1 AND released_at IS NULL \
             ORDER BY agency_id, reference LIMIT $2",
        )
        .bind(open_until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(HoldRow::from_row).collect()
    }

    /// Ends a hold without an end date at `at`: the next pass logs its
    /// release like any lapsed hold's. `false` if it was ended before.
    pub async fn end_open_hold(&self, hold: &HoldRow, at: i64) -> Result<bool> {
        let _g = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE holds SET preserve_until = $3 WHERE agency_id = $1 AND reference = $2 \
             AND preserve_until = $4 AND released_at IS NULL",
        )
        .bind(&hold.agency_id)
        .bind(&hold.reference)
        .bind(at)
        .bind(hold.preserve_until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Holds whose `preserve_until` has passed and whose lapse is not yet
    /// logged.
    pub async fn lapsed_holds(&self, now: i64, limit: i64) -> Result<Vec<HoldRow>> {
        let rows = sqlx::query(
            "SELECT agency_id, reference, case_id, instrument, accounts, preserve_until, renewals \
             FROM holds WHERE preserve_until <= $1 AND released_at IS NULL \
             ORDER BY preserve_until, agency_id, reference LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(HoldRow::from_row).collect()
    }

    /// Marks a hold's lapse as logged, with its events; `false` (and nothing
    /// written) if it was renewed or marked meanwhile.
    pub async fn mark_hold_released(
        &self,
        hold: &HoldRow,
        at: i64,
        events: &[NewEvent],
    ) -> Result<bool> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE holds SET released_at = $4 WHERE agency_id = $1 AND reference = $2 \
             AND preserve_until = $3 AND released_at IS NULL",
        )
        .bind(&hold.agency_id)
        .bind(&hold.reference)
        .bind(hold.preserve_until)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        commit_if_changed(tx, done.rows_affected(), events).await
    }

    /// How many packages are in each state.
    pub async fn package_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) FROM packages GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

/// Which time [`Store::packages_due`] compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueColumn {
    AvailableAt,
    ExpiresAt,
}

/// The user notice of one release (a package generation of a case).
#[derive(Clone, Debug, PartialEq)]
pub struct NoticeRow {
    pub case_id: String,
    pub generation: i64,
    pub notice_id: String,
    pub state: NoticeState,
    /// JSON: who is notified.
    pub summary: String,
    pub attempts: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// When a notice still `sending` may be tried again (epoch seconds).
    pub next_attempt_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

impl Store {
    /// Releases whose users are not yet notified and may be tried at `now`:
    /// (case, generation) of every package that is or was available and
    /// has no notice yet, or one still `sending` whose back-off is over. A
    /// `dead` notice waits for [`Store::retry_notice`].
    pub async fn releases_to_notify(&self, now: i64, limit: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT p.case_id, p.generation FROM packages p LEFT JOIN release_notices n \
             ON n.case_id = p.case_id AND n.generation = p.generation \
             WHERE p.state IN ('ready', 'expired') \
             AND (n.case_id IS NULL OR (n.state = 'sending' AND n.next_attempt_at <= $1)) \
             ORDER BY p.available_at, p.case_id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// The notices of a case, oldest release first.
    pub async fn notices(&self, case_id: &str) -> Result<Vec<NoticeRow>> {
        let rows = sqlx::query(
            "SELECT case_id, generation, notice_id, state, summary, attempts, created_at, sent_at, \
             next_attempt_at, last_error FROM release_notices WHERE case_id = $1 ORDER BY generation",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = get(r, 3)?;
                Ok(NoticeRow {
                    case_id: get(r, 0)?,
                    generation: get(r, 1)?,
                    notice_id: get(r, 2)?,
                    state: NoticeState::parse(&state)
                        .ok_or(StoreError::Corrupt("release_notices", state))?,
                    summary: get(r, 4)?,
                    attempts: get(r, 5)?,
                    created_at: get(r, 6)?,
                    sent_at: get(r, 7)?,
                    next_attempt_at: get(r, 8)?,
                    last_error: get(r, 9)?,
                })
            })
            .collect()
    }

    /// Claims the notice of a release before it is sent (a second claim
    /// counts another attempt and keeps the first `notice_id`).
    pub async fn claim_notice(
        &self,
        case_id: &str,
        generation: i64,
        notice_id: &str,
        summary: &str,
        at: i64,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO release_notices (case_id, generation, notice_id, state, summary, attempts, \
             created_at, sent_at) VALUES ($1, $2, $3, 'sending', $4, 1, $5, NULL) \
             ON CONFLICT (case_id, generation) DO UPDATE SET \
             attempts = release_notices.attempts + 1, summary = excluded.summary",
        )
        .bind(case_id)
        .bind(generation)
        .bind(notice_id)
        .bind(summary)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt at a claimed notice: it is tried again at
    /// `retry_at`, or, with `None`, it is `dead` and no longer tried.
    pub async fn notice_failed(
        &self,
        case_id: &str,
        generation: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool> {
        let _g = self.write_guard().await;
        let state = match retry_at {
            Some(_) => NoticeState::Sending,
            None => NoticeState::Dead,
        };
        let done = sqlx::query(
            "UPDATE release_notices SET state = $3, next_attempt_at = $4, last_error = $5 \
             WHERE case_id = $1 AND generation = $2 AND state = 'sending'",
        )
        .bind(case_id)
        .bind(generation)
        .bind(state.as_str())
        .bind(retry_at.unwrap_or(0))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Puts the `dead` notices of a case back in line, to be tried at once
    /// with a fresh count of attempts; how many there were.
    pub async fn retry_notices(&self, case_id: &str) -> Result<u64> {
        let _g = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE release_notices SET state = 'sending', next_attempt_at = 0, attempts = 0 \
             WHERE case_id = $1 AND state = 'dead'",
        )
        .bind(case_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// How many notices are `dead`.
    pub async fn dead_notice_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM release_notices WHERE state = 'dead'")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Marks a claimed notice sent, with its `notified` event.
    pub async fn mark_notice_sent(
        &self,
        case_id: &str,
        generation: i64,
        at: i64,
        events: &[NewEvent],
    ) -> Result<bool> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE release_notices SET state = 'sent', sent_at = $3 \
             WHERE case_id = $1 AND generation = $2 AND state = 'sending'",
        )
        .bind(case_id)
        .bind(generation)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        commit_if_changed(tx, done.rows_affected(), events).await
    }
}

/// Commits a guarded change with its events when the guard matched a row;
/// otherwise drops the transaction, so nothing is written.
async fn commit_if_changed(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    changed: u64,
    events: &[NewEvent],
) -> Result<bool> {
    if changed == 0 {
        return Ok(false);
    }
    for e in events {
        insert_event(&mut tx, e).await?;
    }
    tx.commit().await?;
    Ok(true)
}

const CERTIFICATE_COLUMNS: &str = "case_id, generation, package_sha256, files, custodian, \
     custodian_title, place, inside_us, signed_by, signed_at";

/// A records custodian's certificate of authenticity for one generation of
/// a case's package: what was certified, by whom, where and when.
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateRow {
    pub case_id: String,
    pub generation: i64,
    /// The package's SHA-256 as served, copied from the package row.
    pub package_sha256: String,
    /// The package's manifest files, copied from the package row.
    pub files: String,
    /// The custodian's full name, as signed.
    pub custodian: String,
    pub custodian_title: String,
    /// Where it was signed (city and state or country).
    pub place: String,
    /// Signed inside the United States (28 U.S.C. § 1746 (2)), else outside (1).
    pub inside_us: bool,
    /// The console user who signed it.
    pub signed_by: String,
    pub signed_at: i64,
}

impl CertificateRow {
    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            case_id: get(r, 0)?,
            generation: get(r, 1)?,
            package_sha256: get(r, 2)?,
            files: get(r, 3)?,
            custodian: get(r, 4)?,
            custodian_title: get(r, 5)?,
            place: get(r, 6)?,
            inside_us: get::<i64>(r, 7)? != 0,
            signed_by: get(r, 8)?,
            signed_at: get(r, 9)?,
        })
    }
}

impl Store {
    /// Records a certificate; fails with [`StoreError::Exists`] when that
    /// generation of the package is certified already (a certificate is
    /// never replaced).
    pub async fn insert_certificate(&self, c: &CertificateRow) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO certificates ({CERTIFICATE_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (case_id, generation) DO NOTHING"
        )))
        .bind(&c.case_id)
        .bind(c.generation)
        .bind(&c.package_sha256)
        .bind(&c.files)
        .bind(&c.custodian)
        .bind(&c.custodian_title)
        .bind(&c.place)
        .bind(i64::from(c.inside_us))
        .bind(&c.signed_by)
        .bind(c.signed_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Exists(
                "certificate",
                format!("{} package {}", c.case_id, c.generation),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The certificates of a case, newest generation first.
    pub async fn certificates(&self, case_id: &str) -> Result<Vec<CertificateRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE case_id = $1 \
             ORDER BY generation DESC"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(CertificateRow::from_row).collect()
    }
}
