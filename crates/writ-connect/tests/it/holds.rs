use writ_connect::Connector;
use writ_connect::demo::{DeleteError, DemoMail};
use writ_model::Category;

use crate::{block_on, t};

fn count(mail: &DemoMail, account: &str, category: Category) -> usize {
    mail.records(account, category, None).unwrap().count()
}

#[test]
fn a_deletion_during_a_hold_fails_and_succeeds_once_the_hold_lapses() {
    let dir = tempfile::tempdir().unwrap();
    block_on(async {
        let mail = DemoMail::open(dir.path()).await.unwrap();
        let account = "alice@example.com";
        let before = count(&mail, account, Category::Content);
        assert!(before > 0);
        let now = t("2026-11-28T12:00:00Z");
        let until = t("2026-12-28T12:00:00Z");
        mail.holds()
            .place(
                "c-1",
                account,
                &[Category::Content, Category::Traffic],
                until,
            )
            .await
            .unwrap();

        let err = mail
            .delete(account, Category::Content, now)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DeleteError::Held { until: u, .. } if u == until),
            "{err}"
        );
        assert_eq!(
            count(&mail, account, Category::Content),
            before,
            "data intact"
        );
        // A category that is not held can be deleted.
        mail.delete(account, Category::Location, now).await.unwrap();
        assert_eq!(count(&mail, account, Category::Location), 0);

        // Nothing lapses early; then the hold lapses on time.
        assert!(mail.holds().lapse_holds(now).await.unwrap().is_empty());
        let later = t("2026-12-28T12:00:00Z");
        let lapsed = mail.holds().lapse_holds(later).await.unwrap();
        assert_eq!(lapsed.len(), 2);
        assert_eq!(lapsed[0].case, "c-1");
        mail.delete(account, Category::Content, later)
            .await
            .unwrap();
        assert_eq!(count(&mail, account, Category::Content), 0);
    });
    // Deletions persist in the service's own database.
    block_on(async {
        let mail = DemoMail::open(dir.path()).await.unwrap();
        assert_eq!(count(&mail, "alice@example.com", Category::Content), 0);
        assert!(count(&mail, "alice@example.com", Category::Traffic) > 0);
    });
}

#[test]
fn an_expired_hold_no_longer_blocks_even_before_it_is_lapsed() {
    let dir = tempfile::tempdir().unwrap();
    block_on(async {
        let mail = DemoMail::open(dir.path()).await.unwrap();
        mail.holds()
            .place(
                "c-1",
                "bob",
                &[Category::Traffic],
                t("2026-12-01T00:00:00Z"),
            )
            .await
            .unwrap();
        assert!(
            mail.delete("bob", Category::Traffic, t("2026-11-30T23:59:59Z"))
                .await
                .is_err()
        );
        mail.delete("bob", Category::Traffic, t("2026-12-01T00:00:00Z"))
            .await
            .unwrap();
    });
}

#[test]
fn renewals_extend_and_never_shorten_and_release_frees() {
    let dir = tempfile::tempdir().unwrap();
    block_on(async {
        let mail = DemoMail::open(dir.path()).await.unwrap();
        let holds = mail.holds();
        let first = t("2026-12-01T00:00:00Z");
        let renewed = t("2027-03-01T00:00:00Z");
        holds
            .place("c-1", "carol", &[Category::Content], first)
            .await
            .unwrap();
        assert_eq!(holds.extend("c-1", renewed).await.unwrap(), 1);
        // Placing the shorter hold again does not shorten it.
        holds
            .place("c-1", "carol", &[Category::Content], first)
            .await
            .unwrap();
        let mid = t("2027-01-15T00:00:00Z");
        assert_eq!(
            holds
                .held_until("carol", Category::Content, mid)
                .await
                .unwrap(),
            Some(renewed)
        );
        assert!(mail.delete("carol", Category::Content, mid).await.is_err());
        // A second case holding the same data keeps it held after the first
        // is released.
        holds
            .place("c-2", "carol", &[Category::Content], renewed)
            .await
            .unwrap();
        assert_eq!(holds.release("c-1").await.unwrap().len(), 1);
        assert!(mail.delete("carol", Category::Content, mid).await.is_err());
        holds.release("c-2").await.unwrap();
        assert!(holds.active("carol", mid).await.unwrap().is_empty());
        mail.delete("carol", Category::Content, mid).await.unwrap();
    });
}
