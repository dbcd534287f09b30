//! An entry point for the fuzz targets (`fuzz/`): the pages' form bodies,
//! read the way the console's and the portal's handlers read them, without
//! a server, a store or a session. Not part of the server's API.

use crate::pages::{self, console};

/// Reads `body` as an `application/x-www-form-urlencoded` form, then as
/// every form the pages take: each review action of the case page, the
/// agency registry's forms, the portal's sign-in (challenge and signature,
/// against a fixed MAC key and agency key) and the portal's order. Panics
/// only if reading does: when the pairs, encoded again, do not read back
/// as the same pairs.
pub fn forms(body: &[u8]) {
    let f = pages::form(body);
    let again: Vec<String> = f
        .iter()
        .map(|(k, v)| format!("{}={}", pages::encode(k), pages::encode(v)))
        .collect();
    assert_eq!(
        pages::form(again.join("&").as_bytes()),
        f,
        "the form's pairs, encoded again, read back otherwise"
    );

    for action in console::ACTIONS {
        let _ = console::review_action(action, &f);
    }
    let _ = console::new_agency(&f);
    let _ = console::agency_key("us-fbi-wfo", &f);
    let _ = console::callback_numbers(&f);

    let text = |name: &str| pages::field(&f, name).unwrap_or_default();
    let _ = (text("csrf"), text("name"), text("password"), text("code"));
    let challenge = text("challenge");
    let now = 1_764_000_000;
    let _ = writ_gateway::portal::check_challenge(&[7; 32], challenge, now);
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let _ = writ_gateway::portal::signed_by_any(
        challenge,
        text("signature").trim(),
        std::iter::once(key),
    );
    if let Some(order) = pages::field(&f, "order") {
        let _ = writ_model::parse::order(order.as_bytes());
    }
}
