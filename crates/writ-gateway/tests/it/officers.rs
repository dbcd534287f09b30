//! Officers: who may add and remove them, the code sign-in (once per code),
//! the callback that replaces a lost passkey, the `registry` entries, and an
//! officer's name on what it does in the portal.

use writ_gateway::auth::{Role, totp};
use writ_gateway::officers::{NewOfficer, OfficerAdmin};
use writ_gateway::{Action, Actor, GatewayError, Submission};
use writ_model::Timestamp;

use crate::{order, user};

fn dana() -> NewOfficer {
    NewOfficer {
        name: "Dana Reyes".into(),
        title: "Special Agent".into(),
        badge: "4411".into(),
        email: "d.reyes@fbi.example".into(),
        phone: "+1 202 555 0100".into(),
        admin: true,
    }
}

fn sam() -> NewOfficer {
    NewOfficer {
        name: "Sam Ortiz".into(),
        title: "Detective".into(),
        badge: "7302".into(),
        email: "sam.ortiz@fbi.example".into(),
        phone: "+12025550111".into(),
        admin: false,
    }
}

async fn registry_actions(gw: &writ_gateway::Gateway) -> Vec<String> {
    gw.store()
        .pending_events(100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "registry")
        .filter_map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.entry).ok()?;
            let action = v["public"]["action"].as_str()?.to_owned();
            action.starts_with("officer_").then(|| {
                format!(
                    "{action} {}",
                    v["public"]["country"].as_str().unwrap_or("-")
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn officers_are_added_sign_in_once_per_code_and_are_removed_for_good() {
    let t = crate::start().await;
    let gw = &t.gw;
    let adam = user("adam", Role::Admin);
    let rita = user("rita", Role::Reviewer);
    let before = registry_actions(gw).await.len();

    // Only an admin adds an officer; the details are checked.
    assert!(matches!(
        gw.add_officer(OfficerAdmin::Staff(&rita), "us-fbi-wfo", &dana())
            .await,
        Err(GatewayError::Forbidden(_))
    ));
    let bad = NewOfficer {
        phone: "call me".into(),
        ..dana()
    };
    match gw
        .add_officer(OfficerAdmin::Staff(&adam), "us-fbi-wfo", &bad)
        .await
    {
        Err(GatewayError::Input(e)) => assert_eq!(e.path, "phone"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        gw.add_officer(OfficerAdmin::Staff(&adam), "no-such-agency", &dana())
            .await,
        Err(GatewayError::NotFound(_))
    ));
    let dana = gw
        .add_officer(OfficerAdmin::Staff(&adam), "us-fbi-wfo", &dana())
        .await
        .unwrap();
    assert_eq!(dana.officer.phone, "+12025550100");
    assert!(dana.otpauth_uri.contains(&dana.totp_secret));
    // The same address twice in one agency is a conflict.
    assert!(matches!(
        gw.add_officer(
            OfficerAdmin::Staff(&adam),
            "us-fbi-wfo",
            &super::officers::dana()
        )
        .await,
        Err(GatewayError::Conflict(_))
    ));

    // A code signs in once: the same code again does not (RFC 6238 5.2).
    let now = Timestamp::now().as_second();
    let code = totp(&dana.totp_secret, now).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(
        gw.officer_sign_in("us-fbi-wfo", "d.reyes@fbi.example", wrong, now)
            .await
            .unwrap()
            .is_none()
    );
    // The address is compared in lower case.
    let secret = gw
        .officer_sign_in("us-fbi-wfo", "D.Reyes@FBI.example", &code, now)
        .await
        .unwrap()
        .expect("the code signs in");
    assert!(
        gw.officer_sign_in("us-fbi-wfo", "d.reyes@fbi.example", &code, now)
            .await
            .unwrap()
            .is_none()
    );
    // Another agency's id with the right code: no.
    let later = now + 30;
    let next = totp(&dana.totp_secret, later).unwrap();
    assert!(
        gw.officer_sign_in("us-nypd", "d.reyes@fbi.example", &next, later)
            .await
            .unwrap()
            .is_none()
    );
    let session = gw.portal_session(&secret, now).await.unwrap().unwrap();
    assert_eq!(session.agency, "us-fbi-wfo");
    let me = session.officer.expect("the session names the officer");
    assert_eq!(me.name, "Dana Reyes");

    // The officer-admin adds an officer of its own agency, not of another.
    let sam = gw
        .add_officer(OfficerAdmin::Officer(&me), "us-fbi-wfo", &sam())
        .await
        .unwrap();
    assert_eq!(sam.officer.created_by, format!("officer:{}", me.id));
    assert!(matches!(
        gw.add_officer(
            OfficerAdmin::Officer(&me),
            "us-nypd",
            &super::officers::sam()
        )
        .await,
        Err(GatewayError::Forbidden(_))
    ));
    // A plain officer adds no one.
    assert!(matches!(
        gw.add_officer(
            OfficerAdmin::Officer(&sam.officer),
            "us-fbi-wfo",
            &NewOfficer {
                email: "x@fbi.example".into(),
                ..super::officers::sam()
            }
        )
        .await,
        Err(GatewayError::Forbidden(_))
    ));

    // Sam signs in; removed, the session ends at its next request and the
    // code no longer signs in.
    let code = totp(&sam.totp_secret, now).unwrap();
    let sam_session = gw
        .officer_sign_in("us-fbi-wfo", "sam.ortiz@fbi.example", &code, now)
        .await
        .unwrap()
        .unwrap();
    assert!(
        gw.portal_session(&sam_session, now)
            .await
            .unwrap()
            .is_some()
    );
    // An officer-admin does not remove itself.
    assert!(matches!(
        gw.remove_officer(OfficerAdmin::Officer(&me), "us-fbi-wfo", &me.id)
            .await,
        Err(GatewayError::Conflict(_))
    ));
    gw.remove_officer(OfficerAdmin::Officer(&me), "us-fbi-wfo", &sam.officer.id)
        .await
        .unwrap();
    assert!(
        gw.portal_session(&sam_session, now)
            .await
            .unwrap()
            .is_none()
    );
    let code = totp(&sam.totp_secret, later).unwrap();
    assert!(
        gw.officer_sign_in("us-fbi-wfo", "sam.ortiz@fbi.example", &code, later)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        gw.remove_officer(OfficerAdmin::Staff(&adam), "us-fbi-wfo", &sam.officer.id)
            .await,
        Err(GatewayError::Conflict(_))
    ));

    // Each change is a registry entry, counted under the agency's country.
    let actions = registry_actions(gw).await;
    assert_eq!(
        actions[before..],
        ["officer_add US", "officer_add US", "officer_remove US"]
    );
    // The agency's history names who did what.
    let detail = gw.agency_detail(&adam, "us-fbi-wfo").await.unwrap();
    let changes: Vec<_> = detail
        .history
        .iter()
        .map(|h| (h.action.as_str(), h.actor.as_str()))
        .filter(|(a, _)| a.starts_with("officer-"))
        .collect();
    let by_dana = format!("officer:{}", me.id);
    assert_eq!(
        changes,
        [
            // The demo's own officer, then this test's.
            ("officer-add", "demo"),
            ("officer-add", "adam"),
            ("officer-add", by_dana.as_str()),
            ("officer-remove", by_dana.as_str()),
        ]
    );
}

#[tokio::test]
async fn a_lost_passkey_is_replaced_only_after_a_callback_on_a_registered_number() {
    let t = crate::start().await;
    let gw = &t.gw;
    let adam = user("adam", Role::Admin);
    let rita = user("rita", Role::Reviewer);
    let dana = gw
        .add_officer(OfficerAdmin::Staff(&adam), "us-fbi-wfo", &dana())
        .await
        .unwrap();
    let now = Timestamp::now().as_second();
    let old = gw
        .officer_sign_in(
            "us-fbi-wfo",
            "d.reyes@fbi.example",
            &totp(&dana.totp_secret, now).unwrap(),
            now,
        )
        .await
        .unwrap()
        .unwrap();
    let id = dana.officer.id.clone();
    let registered = gw.agency_view("us-fbi-wfo").await.unwrap().callback_numbers;
    assert!(!registered.is_empty());

    // A number from an e-mail is not a callback.
    match gw
        .reset_officer(&adam, "us-fbi-wfo", &id, "+15555550199")
        .await
    {
        Err(GatewayError::Input(e)) => assert_eq!(e.path, "called"),
        other => panic!("{other:?}"),
    }
    // Only an admin replaces a sign-in.
    assert!(matches!(
        gw.reset_officer(&rita, "us-fbi-wfo", &id, &registered[0])
            .await,
        Err(GatewayError::Forbidden(_))
    ));
    let fresh = gw
        .reset_officer(&adam, "us-fbi-wfo", &id, &registered[0])
        .await
        .unwrap();
    assert_ne!(fresh.totp_secret, dana.totp_secret);
    // The old session is over; the old secret's codes no longer sign in,
    // the new one's do.
    assert!(gw.portal_session(&old, now).await.unwrap().is_none());
    let later = now + 30;
    assert!(
        gw.officer_sign_in(
            "us-fbi-wfo",
            "d.reyes@fbi.example",
            &totp(&dana.totp_secret, later).unwrap(),
            later,
        )
        .await
        .unwrap()
        .is_none()
    );
    assert!(
        gw.officer_sign_in(
            "us-fbi-wfo",
            "d.reyes@fbi.example",
            &totp(&fresh.totp_secret, later + 30).unwrap(),
            later + 30,
        )
        .await
        .unwrap()
        .is_some()
    );
    let detail = gw.agency_detail(&adam, "us-fbi-wfo").await.unwrap();
    let reset = detail
        .history
        .iter()
        .find(|h| h.action == "officer-reset")
        .expect("the reset is in the agency's history");
    assert!(reset.detail.contains(&registered[0]), "{}", reset.detail);
    assert!(
        registry_actions(gw)
            .await
            .iter()
            .any(|a| a == "officer_reset US")
    );
}

#[tokio::test]
async fn what_an_officer_does_in_the_portal_is_recorded_under_its_name() {
    let t = crate::start().await;
    let gw = &t.gw;
    let adam = user("adam", Role::Admin);
    let dana = gw
        .add_officer(OfficerAdmin::Staff(&adam), "us-fbi-wfo", &dana())
        .await
        .unwrap()
        .officer;
    let body = order(
        "OFF-1",
        "subpoena",
        serde_json::json!({"categories": ["subscriber"]}),
    );
    // An officer of another agency cannot submit for this one.
    let nypd = gw
        .add_officer(
            OfficerAdmin::Staff(&adam),
            "us-nypd",
            &NewOfficer {
                email: "sam@nypd.example".into(),
                ..sam()
            },
        )
        .await
        .unwrap()
        .officer;
    assert!(matches!(
        gw.submit(Submission {
            submitter: "us-fbi-wfo",
            officer: Some(&nypd),
            body: &body,
        })
        .await,
        Err(GatewayError::Forbidden(_))
    ));
    let answer = gw
        .submit(Submission {
            submitter: "us-fbi-wfo",
            officer: Some(&dana),
            body: &body,
        })
        .await
        .unwrap();
    let events = gw.store().events_for_case(&answer.case).await.unwrap();
    let received = events.iter().find(|e| e.kind == "received").unwrap();
    assert!(
        received
            .private
            .contains("Dana Reyes, Special Agent (badge 4411)"),
        "{}",
        received.private
    );
    // Nothing of the officer is public.
    assert!(!received.entry.contains("Dana"), "{}", received.entry);

    // The case's history names the officer; so does an answer to a
    // question.
    let rita = user("rita", Role::Reviewer);
    gw.change(
        Actor::Staff(&rita),
        &answer.case,
        Action::Query {
            message: "Which account do you mean?".into(),
            fields: vec!["targets".into()],
            incomplete: false,
        },
    )
    .await
    .unwrap();
    gw.change(
        Actor::Officer(&dana),
        &answer.case,
        Action::Clarify {
            message: "The one at example.com.".into(),
        },
    )
    .await
    .unwrap();
    let exchange = gw.clarifications(&rita, &answer.case).await.unwrap();
    assert_eq!(
        exchange.last().unwrap().author,
        "Dana Reyes, Special Agent (badge 4411)"
    );
    let detail = gw.case_detail(&rita, &answer.case).await.unwrap();
    let who: Vec<&str> = detail.history.iter().map(|h| h.by.as_str()).collect();
    assert!(
        who.contains(&"Dana Reyes, Special Agent (badge 4411), agency us-fbi-wfo"),
        "{who:?}"
    );
    assert_eq!(
        who.iter().filter(|w| w.starts_with("Dana Reyes")).count(),
        2,
        "{who:?}"
    );
}
