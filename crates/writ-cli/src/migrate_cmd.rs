//! `writ migrate`: moves a single-machine deployment (SQLite and a local
//! objects folder) onto PostgreSQL and, optionally, other object storage,
//! and proves the move lossless: every row of every table arrives with the
//! same contents (compared by per-row hashes), and the log recomputed from
//! its objects at the destination has the root of the last signed
//! checkpoint, and every live sealed package there has the SHA-256 its row
//! records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use sha2::{Digest as _, Sha256};
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AnyPool, AssertSqlSafe, Row as _, ValueRef as _};
use writ_objects::{ObjectStorage, ObjectsLocation, layout};
use writ_tlog::trusted::TrustedStore as _;

use crate::client;
use crate::input::BadInput;

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The source case store: `sqlite://<data>/writ.db`.
    #[arg(long)]
    pub from: String,
    /// The destination: an empty PostgreSQL database, `postgres://...`.
    #[arg(long)]
    pub to: String,
    /// The source objects folder [default: `objects` beside the SQLite file].
    #[arg(long)]
    pub from_objects: Option<String>,
    /// Where to copy the objects (a folder or `s3://bucket/prefix`); without
    /// it the objects stay where they are and are checked there.
    #[arg(long)]
    pub to_objects: Option<String>,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    client::runtime()?.block_on(migrate(args))
}

/// One column value, as both databases can hold it.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// Column `i` of a row, by the kind of value the driver holds.
    fn of(row: &AnyRow, i: usize) -> Result<Value, sqlx::Error> {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let kind = raw.type_info().kind();
        Ok(match kind {
            AnyTypeInfoKind::Null => Value::Null,
            AnyTypeInfoKind::Bool => Value::Int(i64::from(row.try_get::<bool, _>(i)?)),
            AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                Value::Int(row.try_get::<i64, _>(i)?)
            }
            AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
                Value::Real(row.try_get::<f64, _>(i)?)
            }
            AnyTypeInfoKind::Text => Value::Text(row.try_get::<String, _>(i)?),
            AnyTypeInfoKind::Blob => Value::Blob(row.try_get::<Vec<u8>, _>(i)?),
        })
    }

    /// Feeds a tagged, length-prefixed encoding to a row hash.
    fn hash_into(&self, h: &mut Sha256) {
        let (tag, bytes): (u8, Vec<u8>) = match self {
            Value::Null => (0, Vec::new()),
            Value::Int(i) => (1, i.to_be_bytes().to_vec()),
            Value::Real(f) => (2, f.to_bits().to_be_bytes().to_vec()),
            Value::Text(s) => (3, s.as_bytes().to_vec()),
            Value::Blob(b) => (4, b.clone()),
        };
        h.update([tag]);
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(&bytes);
    }
}

/// A table's rows: column names, and each row's values.
struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

async fn read_rows(pool: &AnyPool, table: &str) -> anyhow::Result<Rows> {
    let rows = sqlx::query(AssertSqlSafe(format!("SELECT * FROM {table}")))
        .fetch_all(pool)
        .await
        .with_context(|| format!("reading table `{table}`"))?;
    let columns = match rows.first() {
        Some(r) => r
            .columns()
            .iter()
            .map(|c| sqlx::Column::name(c).to_owned())
            .collect(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(Value::of(row, i)?);
        }
        out.push(values);
    }
    Ok(Rows { columns, rows: out })
}

/// The sorted per-row hashes of a table, by column name so that column
/// order does not matter.
fn row_hashes(rows: &Rows) -> Vec<[u8; 32]> {
    let mut order: Vec<usize> = (0..rows.columns.len()).collect();
    order.sort_by(|a, b| rows.columns[*a].cmp(&rows.columns[*b]));
    let mut hashes: Vec<[u8; 32]> = rows
        .rows
        .iter()
        .map(|row| {
            let mut h = Sha256::new();
            for &i in &order {
                h.update(rows.columns[i].as_bytes());
                row[i].hash_into(&mut h);
            }
            h.finalize().into()
        })
        .collect();
    hashes.sort_unstable();
    hashes
}

/// The source's tables in the order they were created (parents before the
/// tables that refer to them).
async fn source_tables(pool: &AnyPool) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>(0)?))
        .collect()
}

async fn target_tables(pool: &AnyPool) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>(0)?))
        .collect()
}

async fn count(pool: &AnyPool, table: &str) -> anyhow::Result<i64> {
    Ok(
        sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(pool)
            .await?
            .try_get::<i64, _>(0)?,
    )
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what}"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let Some(source_file) = args.from.strip_prefix("sqlite://") else {
        return Err(BadInput(format!(
            "--from `{}`: the source must be a SQLite case store, sqlite://<data>/writ.db",
            args.from
        ))
        .into());
    };
    let source_file = PathBuf::from(source_file.split('?').next().unwrap_or(source_file));
    if !source_file.is_file() {
        return Err(BadInput(format!(
            "--from `{}`: no such database file",
            source_file.display()
        ))
        .into());
    }
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        return Err(BadInput(format!(
            "--to `{}`: the destination must be PostgreSQL, postgres://...",
            args.to
        ))
        .into());
    }
    let from_objects = match &args.from_objects {
        Some(o) => {
            ObjectsLocation::parse(o).map_err(|e| BadInput(format!("--from-objects: {e}")))?
        }
        None => ObjectsLocation::Dir(
            source_file
                .parent()
                .unwrap_or(Path::new("."))
                .join(layout::OBJECTS),
        ),
    };
    let ObjectsLocation::Dir(from_dir) = &from_objects else {
        return Err(
            BadInput("--from-objects: the source objects must be a local folder".into()).into(),
        );
    };
    let to_objects = args
        .to_objects
        .as_deref()
        .map(ObjectsLocation::parse)
        .transpose()
        .map_err(|e| BadInput(format!("--to-objects: {e}")))?;

    // Both schemas up to date: the case store's migrations and the log's
    // trusted tables.
    let source = writ_store::Store::open(&args.from)
        .await
        .with_context(|| format!("opening `{}`", args.from))?;
    writ_tlog::trusted::SqliteStore::open(&source_file)
        .await
        .with_context(|| format!("opening the log's tables in `{}`", source_file.display()))?;
    // The copy runs in one transaction that waits while each source table
    // is read, which may take longer than a server's transactions ever
    // wait: allow an hour before PostgreSQL ends it.
    let target = writ_store::Store::open_with(&args.to, std::time::Duration::from_secs(3600))
        .await
        .with_context(|| format!("opening `{}`", args.to))?;
    let target_trusted = writ_tlog::trusted_pg::PgStore::reader(&args.to)
        .await
        .with_context(|| format!("opening the log's tables in `{}`", args.to))?;

    // Refuse a destination that holds anything.
    let target_list = target_tables(target.pool()).await?;
    for table in &target_list {
        if table == "schema_migrations" {
            continue;
        }
        let n = count(target.pool(), table).await?;
        if n > 0 {
            bail!(
                "the destination is not empty: table `{table}` has {n} rows; migrate only into an empty database"
            );
        }
    }

    // Copy every table, then compare counts and per-row hashes.
    let tables: Vec<String> = source_tables(source.pool())
        .await?
        .into_iter()
        .filter(|t| t != "schema_migrations")
        .collect();
    for table in &tables {
        if !target_list.contains(table) {
            bail!("the destination has no table `{table}`: is it the same version of writ?");
        }
    }
    let mut copied = BTreeMap::new();
    let mut tx = target.pool().begin().await?;
    for table in &tables {
        let rows = read_rows(source.pool(), table).await?;
        let progress = bar(rows.rows.len() as u64, table);
        for row in &rows.rows {
            let mut sql = format!("INSERT INTO {table} ({}) VALUES (", rows.columns.join(", "));
            let mut n = 0;
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                if *v == Value::Null {
                    sql.push_str("NULL");
                } else {
                    n += 1;
                    sql.push_str(&format!("${n}"));
                }
            }
            sql.push(')');
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in row {
                q = match v {
                    Value::Null => q,
                    Value::Int(i) => q.bind(*i),
                    Value::Real(f) => q.bind(*f),
                    Value::Text(s) => q.bind(s.clone()),
                    Value::Blob(b) => q.bind(b.clone()),
                };
            }
            q.execute(&mut *tx)
                .await
                .with_context(|| format!("copying a row of `{table}`"))?;
            progress.inc(1);
        }
        progress.finish_and_clear();
        copied.insert(table.clone(), rows);
    }
    // Serial keys continue after the copied rows.
    let serials = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut *tx)
    .await?;
    for s in &serials {
        let (table, column): (String, String) = (s.try_get(0)?, s.try_get(1)?);
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        )))
        .execute(&mut *tx)
        .await
        .with_context(|| format!("continuing the key of `{table}`"))?;
    }
    tx.commit().await.context("committing the copy")?;

    let mut rows_total = 0usize;
    for (table, rows) in &copied {
        let arrived = read_rows(target.pool(), table).await?;
        if arrived.rows.len() != rows.rows.len() {
            bail!(
                "table `{table}`: {} rows at the source, {} at the destination",
                rows.rows.len(),
                arrived.rows.len()
            );
        }
        if row_hashes(&arrived) != row_hashes(rows) {
            bail!("table `{table}`: rows differ between the source and the destination");
        }
        rows_total += rows.rows.len();
    }
    eprintln!(
        "copied {} tables, {rows_total} rows; row counts and per-row hashes match",
        copied.len()
    );

    // The objects, then the log checked where it now lives.
    let log_objects = match &to_objects {
        Some(to) => {
            // Collections in progress belong to the machine doing them;
            // they are redone from the case store.
            let files: Vec<String> = walk(from_dir)?
                .into_iter()
                .filter(|f| !f.starts_with("work/"))
                .collect();
            let progress = bar(files.len() as u64, "objects");
            let mut stores: BTreeMap<String, Arc<dyn ObjectStorage>> = BTreeMap::new();
            for rel in &files {
                let (kind, path) = rel.split_once('/').unwrap_or(("", rel.as_str()));
                if kind.is_empty() {
                    bail!(
                        "`{}`: objects belong in a folder such as `log/`",
                        from_dir.join(rel).display()
                    );
                }
                let store = match stores.get(kind) {
                    Some(s) => s.clone(),
                    None => {
                        let s = to.open(kind).with_context(|| format!("opening `{to}`"))?;
                        stores.insert(kind.to_owned(), s.clone());
                        s
                    }
                };
                if kind == layout::PACKAGES {
                    // Large: streamed, never read whole.
                    store
                        .put_file(path.to_owned(), from_dir.join(rel))
                        .await
                        .with_context(|| format!("copying `{rel}`"))?;
                    progress.inc(1);
                    continue;
                }
                let data = std::fs::read(from_dir.join(rel))
                    .with_context(|| format!("reading `{}`", from_dir.join(rel).display()))?;
                if kind == layout::LOG && path == writ_tlog::CHECKPOINT_PATH {
                    store.put(path.to_owned(), data).await?;
                } else {
                    store.put_once(vec![(path.to_owned(), data)]).await?;
                }
                progress.inc(1);
            }
            progress.finish_and_clear();
            eprintln!("copied {} objects to {to}", files.len());
            (to.open(layout::LOG)?, to.open(layout::PACKAGES)?)
        }
        None => (
            from_objects.open(layout::LOG)?,
            from_objects.open(layout::PACKAGES)?,
        ),
    };
    let (log_objects, package_objects) = log_objects;
    let checked = check_packages(target.pool(), &*package_objects).await?;
    eprintln!("{checked} sealed packages at the destination have the SHA-256 their rows record");
    let identity = target_trusted
        .identity()
        .await?
        .context("the source has no log identity: is it a writ data folder?")?;
    let signer = writ_tlog::NoteSigner::new(&identity.origin, &identity.seed)?;
    let vkey = signer.verifier();
    let stored = target_trusted
        .checkpoint()
        .await?
        .context("the source has no signed checkpoint")?;
    // The public checkpoint may lag behind the signed one; everything the
    // signed one covers is in the objects already.
    log_objects
        .put(
            writ_tlog::CHECKPOINT_PATH.to_owned(),
            stored.note.clone().into_bytes(),
        )
        .await?;
    let fetch = ObjectsFetch {
        objects: log_objects,
        runtime: tokio::runtime::Handle::current(),
    };
    let verify_vkey = vkey.clone();
    let since = stored.note.clone();
    let verified = tokio::task::spawn_blocking(move || {
        writ_tlog::verify::verify_log(&fetch, &verify_vkey, Some(&since), &mut |_, _| {})
    })
    .await?
    .context("the log at the destination does not verify")?;
    if verified.checkpoint.size != stored.size || verified.checkpoint.root != stored.root {
        bail!("the log at the destination does not end at the last signed checkpoint");
    }
    eprintln!(
        "log of {} entries recomputed at the destination: root {} equals the last signed root",
        stored.size,
        stored.root.to_base64()
    );
    println!(
        "{}",
        serde_json::json!({
            "tables": copied.len(),
            "rows": rows_total,
            "log_size": stored.size,
            "log_root": stored.root.to_base64(),
            "packages": checked,
            "vkey": vkey.to_string(),
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads every package a row says is stored (sealed or ready) from the
/// packages storage and compares its size and SHA-256 with the row's;
/// returns how many it checked.
async fn check_packages(pool: &AnyPool, packages: &dyn ObjectStorage) -> anyhow::Result<usize> {
    use futures_util::StreamExt as _;
    let rows = sqlx::query(
        "SELECT object, sha256, size FROM packages WHERE state IN ('sealed', 'ready') ORDER BY object",
    )
    .fetch_all(pool)
    .await
    .context("reading the package rows")?;
    let progress = bar(rows.len() as u64, "packages");
    for row in &rows {
        let (object, sha256, size): (String, String, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let Some(mut reader) = packages.get_stream(object.clone()).await? else {
            bail!("package `{object}` is recorded but not stored at the destination");
        };
        let mut hasher = Sha256::new();
        let mut read = 0u64;
        while let Some(chunk) = reader.stream.next().await {
            let chunk = chunk?;
            read += chunk.len() as u64;
            hasher.update(&chunk);
        }
        if i64::try_from(read).ok() != Some(size) || hex::encode(hasher.finalize()) != sha256 {
            bail!("package `{object}` at the destination differs from the one sealed");
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(rows.len())
}

/// Every file under a folder, as `/`-separated relative paths, without the
/// temporary files of interrupted writes.
fn walk(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && rel.as_os_str().is_empty() => {
                return Ok(out);
            }
            Err(e) => return Err(e).with_context(|| format!("reading `{}`", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = rel.join(&name);
            if entry.file_type()?.is_dir() {
                stack.push(child);
            } else if !name.contains(".tmp-") {
                out.push(child.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a log's objects for the (synchronous) auditor, from a blocking
/// thread.
struct ObjectsFetch {
    objects: Arc<dyn ObjectStorage>,
    runtime: tokio::runtime::Handle,
}

impl writ_tlog::verify::Fetch for ObjectsFetch {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        self.runtime
            .block_on(self.objects.get(path.to_owned()))
            .map_err(|e| e.to_string())
    }
}
