//! The layout of a data folder (`--data`), and of the kinds of object under
//! an objects location, in one place:
//!
//! ```text
//! <data>/writ.db            the case store and the log's trusted store (SQLite)
//! <data>/objects/           the objects, unless `--objects` puts them elsewhere
//!         log/              the log's checkpoint, tiles and bundles
//!         packages/         sealed packages
//!         attachments/      documents uploaded with orders, by case and SHA-256
//!         work/             collections in progress on this machine
//! <data>/work/              the same, when the objects are in a bucket
//! <data>/demo/mail/         the demo mail service (`--demo`)
//! <data>/demo/outbox/       user notices written as files (`--demo`)
//! <data>/demo/agency-outbox/ agency notifications written as files (`--demo`)
//! ```

use std::path::{Path, PathBuf};

/// The SQLite database in a data folder.
pub const DATABASE: &str = "writ.db";

/// The objects folder in a data folder.
pub const OBJECTS: &str = "objects";

/// The log's objects, under an objects location.
pub const LOG: &str = "log";

/// Sealed packages, under an objects location.
pub const PACKAGES: &str = "packages";

/// Documents uploaded with orders, under an objects location.
pub const ATTACHMENTS: &str = "attachments";

/// Collections in progress, beside the objects or in the data folder.
pub const WORK: &str = "work";

/// The demo's files in a data folder.
pub const DEMO: &str = "demo";

/// `<data>/writ.db`.
pub fn database(data: &Path) -> PathBuf {
    data.join(DATABASE)
}

/// `sqlite://<data>/writ.db`, the case store when no database is given.
pub fn database_url(data: &Path) -> String {
    format!("sqlite://{}", database(data).display())
}

/// `<data>/objects`.
pub fn objects(data: &Path) -> PathBuf {
    data.join(OBJECTS)
}

/// `<data>/objects/log`.
pub fn log_objects(data: &Path) -> PathBuf {
    objects(data).join(LOG)
}

/// `<data>/demo`.
pub fn demo(data: &Path) -> PathBuf {
    data.join(DEMO)
}

/// `<data>/demo/mail`.
pub fn demo_mail(data: &Path) -> PathBuf {
    demo(data).join("mail")
}

/// `<data>/demo/outbox`.
pub fn demo_outbox(data: &Path) -> PathBuf {
    demo(data).join("outbox")
}

/// `<data>/demo/agency-outbox`.
pub fn demo_agency_outbox(data: &Path) -> PathBuf {
    demo(data).join("agency-outbox")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let data = Path::new("/srv/writ");
        assert_eq!(database(data), Path::new("/srv/writ/writ.db"));
        assert_eq!(database_url(data), "sqlite:///srv/writ/writ.db");
        assert_eq!(log_objects(data), Path::new("/srv/writ/objects/log"));
        assert_eq!(demo_outbox(data), Path::new("/srv/writ/demo/outbox"));
        assert_eq!(demo_mail(data), Path::new("/srv/writ/demo/mail"));
    }
}
