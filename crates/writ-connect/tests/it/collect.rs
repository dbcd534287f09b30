use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use writ_connect::demo::{DemoData, bulk_account};
use writ_connect::{ConnectError, Connector, Job, RecordStream, Scope, collect};
use writ_model::Category;
use writ_model::order::DateRange;
use writ_seal::Identity;

use crate::{header, range};

/// The demo data, failing once a number of records has been read (a crash
/// mid-collection), and remembering which pairs it was asked for.
struct Interrupting {
    left: AtomicU64,
    calls: Mutex<Vec<(String, Category)>>,
}

impl Interrupting {
    fn new(after: u64) -> Self {
        Self {
            left: AtomicU64::new(after),
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl Connector for Interrupting {
    fn records(
        &self,
        account: &str,
        category: Category,
        range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError> {
        self.calls
            .lock()
            .unwrap()
            .push((account.to_owned(), category));
        let inner = DemoData.records(account, category, range)?;
        Ok(Box::new(inner.map(move |r| {
            let left = self.left.load(Ordering::SeqCst);
            if left == 0 {
                return Err(ConnectError::Other("interrupted".into()));
            }
            self.left.store(left - 1, Ordering::SeqCst);
            r
        })))
    }
}

fn job(dir: &Path, identity: &Identity) -> Job {
    let account = bulk_account(2 * 1024 * 1024);
    Job {
        header: header(),
        scope: Scope::new(
            [
                (account.clone(), Category::Subscriber),
                (account.clone(), Category::Traffic),
                (account.clone(), Category::Content),
                ("alice@example.com".to_owned(), Category::Content),
            ],
            Some(range("2021-01-01T00:00:00Z", "2028-12-31T23:59:59Z")),
        ),
        recipient: identity.to_public(),
        work_dir: dir.join("work"),
        dest: dir.join("case.age"),
    }
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for account in std::fs::read_dir(dir).unwrap() {
        let account = account.unwrap().path();
        if account.is_dir() {
            for file in std::fs::read_dir(&account).unwrap() {
                let file = file.unwrap().path();
                let name = file.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, std::fs::read(&file).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn an_interrupted_collection_leaves_no_package_and_resumes_to_the_same_result() {
    let identity = Identity::generate();

    // The uninterrupted run.
    let whole = tempfile::tempdir().unwrap();
    let reference = collect(&job(whole.path(), &identity), &DemoData).unwrap();
    assert_eq!(reference.resumed, 0);
    assert!(!whole.path().join("work").exists(), "work folder removed");
    writ_seal::open(&reference.sealed.path, &identity, &whole.path().join("out")).unwrap();

    // Interrupted in the middle of the third pair (traffic of the bulk
    // account sorts after its content... the order is the scope's sorted
    // order: (account, category)).
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), &identity);
    let pairs: Vec<_> = job.scope.pairs().collect();
    let first_two: u64 = pairs[..2]
        .iter()
        .map(|(a, c)| DemoData.records(a, *c, job.scope.range()).unwrap().count() as u64)
        .sum();
    let crashing = Interrupting::new(first_two + 3);
    let err = collect(&job, &crashing).unwrap_err();
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(!job.dest.exists(), "no package under its name");
    let visible: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".age"))
        .collect();
    assert!(visible.is_empty(), "{visible:?}");

    // Resumed: the two finished pairs are not read again.
    let resuming = Interrupting::new(u64::MAX);
    let resumed = collect(&job, &resuming).unwrap();
    assert_eq!(resumed.resumed, 2);
    let asked: Vec<_> = resuming.calls.lock().unwrap().clone();
    let expected: Vec<_> = pairs[2..]
        .iter()
        .map(|(a, c)| (a.to_string(), *c))
        .collect();
    assert_eq!(asked, expected);

    let out = dir.path().join("out");
    let manifest = writ_seal::open(&resumed.sealed.path, &identity, &out).unwrap();
    assert_eq!(manifest, reference.sealed.manifest);
    assert_eq!(tree(&out), tree(&whole.path().join("out")));
}

/// Spools are not synced, so after a crash one may hold other bytes than
/// `progress.json` says (here: one byte changed, the size the same). A
/// resumed run re-hashes it, finds it torn and collects it again.
#[test]
fn a_torn_spool_is_collected_again_when_resuming() {
    let identity = Identity::generate();
    let whole = tempfile::tempdir().unwrap();
    let reference = collect(&job(whole.path(), &identity), &DemoData).unwrap();
    writ_seal::open(&reference.sealed.path, &identity, &whole.path().join("out")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), &identity);
    let pairs: Vec<_> = job.scope.pairs().collect();
    let first_two: u64 = pairs[..2]
        .iter()
        .map(|(a, c)| DemoData.records(a, *c, job.scope.range()).unwrap().count() as u64)
        .sum();
    collect(&job, &Interrupting::new(first_two + 3)).unwrap_err();
    let spool = job.work_dir.join("1.ndjson");
    let mut bytes = std::fs::read(&spool).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    std::fs::write(&spool, &bytes).unwrap();

    let resuming = Interrupting::new(u64::MAX);
    let resumed = collect(&job, &resuming).unwrap();
    assert_eq!(resumed.resumed, 1, "only the intact first pair is kept");
    assert_eq!(resuming.calls.lock().unwrap().len(), pairs.len() - 1);
    let out = dir.path().join("out");
    let manifest = writ_seal::open(&resumed.sealed.path, &identity, &out).unwrap();
    assert_eq!(manifest, reference.sealed.manifest);
    assert_eq!(tree(&out), tree(&whole.path().join("out")));
}

#[test]
fn a_work_folder_of_another_job_is_started_afresh() {
    let identity = Identity::generate();
    let dir = tempfile::tempdir().unwrap();
    let mut first = job(dir.path(), &identity);
    let _ = collect(&first, &Interrupting::new(5)).unwrap_err();
    first.header.case = "c-another".into();
    let collected = collect(&first, &DemoData).unwrap();
    assert_eq!(collected.resumed, 0);
    assert_eq!(
        writ_seal::verify(&first.dest, &identity).unwrap().case,
        "c-another"
    );
}

/// Sealing streams: a 200 MB account is collected and sealed in a child
/// process (this test binary run again), whose peak RSS must stay under
/// 64 MiB.
#[test]
fn memory_stays_flat() {
    const LIMIT_KIB: u64 = 64 * 1024;
    if let Some(dir) = std::env::var_os("WRIT_MEMORY_CHILD") {
        let dir = Path::new(&dir);
        let identity = Identity::generate();
        let account = bulk_account(200_000_000);
        let job = Job {
            header: header(),
            scope: Scope::new(Category::ALL.iter().map(|c| (account.clone(), *c)), None),
            recipient: identity.to_public(),
            work_dir: dir.join("work"),
            dest: dir.join("big.age"),
        };
        let collected = collect(&job, &DemoData).unwrap();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let hwm = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        println!("SEALED_BYTES={}", collected.sealed.size);
        println!("{hwm}");
        return;
    }
    if !Path::new("/proc/self/status").exists() {
        eprintln!("SKIPPED memory_stays_flat: no /proc on this system");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "collect::memory_stays_flat",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WRIT_MEMORY_CHILD", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sealed: u64 = stdout
        .lines()
        .find_map(|l| l.split("SEALED_BYTES=").nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(sealed > 150_000_000, "{sealed}");
    let hwm: u64 = stdout
        .lines()
        .find_map(|l| l.split("VmHWM:").nth(1))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    eprintln!("peak RSS sealing {sealed} bytes: {hwm} KiB");
    assert!(hwm < LIMIT_KIB, "peak RSS {hwm} KiB");
}
