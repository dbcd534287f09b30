//! Keeping mailbox messages: attachments stored before the row, a repeated
//! fetch harmless, an oversized message kept with a note, roles and states.

use std::sync::Arc;

use writ_gateway::GatewayError;
use writ_gateway::auth::Role;
use writ_gateway::mailbox::MAX_MESSAGE_BYTES;
use writ_store::MailAdded;

use crate::{start, user};

const WARRANT: &[u8] = include_bytes!("../mail/warrant-pdf.eml");
const PDF: &[u8] = include_bytes!("../mail/warrant-2026-114.pdf");

#[tokio::test]
async fn messages_are_kept_once_with_their_attachments() {
    let t = start().await;
    let objects = tempfile::tempdir().unwrap();
    t.gw.set_attachments(Arc::new(writ_objects::LocalDir::new(objects.path())));
    let rita = user("rita", Role::Reviewer);
    let adam = user("adam", Role::Admin);

    assert_eq!(t.gw.mail_last_uid(5).await.unwrap(), None);
    assert_eq!(
        t.gw.keep_mail(5, 1, WARRANT, None).await.unwrap(),
        MailAdded::Added
    );
    // A repeated fetch writes the same objects and keeps no second row.
    assert_eq!(
        t.gw.keep_mail(5, 1, WARRANT, None).await.unwrap(),
        MailAdded::Known
    );
    assert_eq!(t.gw.mail_last_uid(5).await.unwrap(), Some(1));
    let list = t.gw.mailbox(&rita).await.unwrap();
    assert_eq!(list.len(), 1);
    let m = &list[0];
    assert_eq!(m.subject, "Search warrant 2026-114");
    assert_eq!(m.state, "new");
    let pdf = &m.attachments[0];
    assert!(pdf.document && pdf.kept);
    assert_eq!(pdf.sha256, writ_gateway::canonical::sha256_hex(PDF));
    // Stored under attachments/mailbox/<id>/<sha256>, served checked.
    assert_eq!(
        std::fs::read(objects.path().join("mailbox").join(&m.id).join(&pdf.sha256)).unwrap(),
        PDF
    );
    let (_, bytes) =
        t.gw.mail_attachment(&rita, &m.id, &pdf.sha256)
            .await
            .unwrap();
    assert_eq!(bytes, PDF);

    // A message over the limit: its headers and a note, nothing else.
    let size = MAX_MESSAGE_BYTES + 1;
    assert_eq!(
        t.gw.keep_mail(
            5,
            2,
            b"From: big@agency.example\r\nSubject: Scans\r\n\r\n",
            Some(size)
        )
        .await
        .unwrap(),
        MailAdded::Added
    );
    let big = t.gw.mailbox(&rita).await.unwrap();
    let big = big.iter().find(|m| m.subject == "Scans").unwrap();
    assert!(big.attachments.is_empty() && big.body.is_empty());
    assert!(
        big.note.as_deref().unwrap().contains(&size.to_string()),
        "{:?}",
        big.note
    );

    // Admins read none of it; a message is settled once.
    assert!(matches!(
        t.gw.mailbox(&adam).await,
        Err(GatewayError::Forbidden(_))
    ));
    assert!(matches!(
        t.gw.settle_mail(&adam, &m.id, None).await,
        Err(GatewayError::Forbidden(_))
    ));
    t.gw.settle_mail(&rita, &big.id, None).await.unwrap();
    assert!(matches!(
        t.gw.settle_mail(&rita, &big.id, Some("c-1")).await,
        Err(GatewayError::Conflict(_))
    ));
    assert!(matches!(
        t.gw.settle_mail(&rita, "m-nope", None).await,
        Err(GatewayError::NotFound(_))
    ));
    let big = t.gw.mail(&rita, &big.id).await.unwrap();
    assert_eq!(
        (big.state.as_str(), big.by.as_deref()),
        ("dismissed", Some("rita"))
    );
}
