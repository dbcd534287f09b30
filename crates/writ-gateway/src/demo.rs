//! Demo data (`docs/http.md`, "Demo data"): the corpus fixture's agencies and
//! accounts, a few thousand synthetic accounts across regions, keys for
//! every demo agency and four console users.
//!
//! Seeding is one insert-if-absent decision in the store (`demo_seeded`), so
//! that servers started together on one database seed it once.

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use writ_model::{Account, Agency};
use writ_store::AccountRow;

use crate::auth::Role;
use crate::{Gateway, GatewayError, Result, random_bytes};

/// The public corpus fixture, as shipped with the corpus.
const FIXTURE: &str = include_str!("../fixtures/demo.json");

/// How many synthetic accounts the demo adds.
pub const SYNTHETIC_ACCOUNTS: usize = 3000;

const REGIONS: &[&str] = &["US", "IE", "DE", "GB", "FR", "BR", "IN", "DK"];

#[derive(Deserialize)]
struct Fixture {
    agencies: Vec<Agency>,
    accounts: Vec<Account>,
}

fn fixture() -> Result<Fixture> {
    Ok(serde_json::from_str(FIXTURE)?)
}

/// The fixture's agencies.
pub fn agencies() -> Result<Vec<Agency>> {
    Ok(fixture()?.agencies)
}

/// The key id of a request-signing key: the agency and the first 16 hex
/// digits of the SHA-256 of the public key, so that a signer that holds the
/// private key can name it without being told.
pub fn key_id(agency: &str, public_key: &ed25519_dalek::VerifyingKey) -> String {
    let fp = crate::canonical::sha256_hex(public_key.as_bytes());
    format!("{agency}:{}", &fp[..16])
}

/// Reads a signing key file: base64 of the 32-byte Ed25519 seed.
pub fn read_signing_key(text: &str) -> Option<ed25519_dalek::SigningKey> {
    let bytes = B64.decode(text.trim()).ok()?;
    let seed: [u8; 32] = bytes.try_into().ok()?;
    Some(ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// A fresh signing key in the file format [`read_signing_key`] reads.
pub fn new_signing_key() -> Result<(ed25519_dalek::SigningKey, String)> {
    let seed = random_bytes::<32>()?;
    Ok((
        ed25519_dalek::SigningKey::from_bytes(&seed),
        format!("{}\n", B64.encode(seed)),
    ))
}

fn io(path: &Path, e: std::io::Error) -> GatewayError {
    GatewayError::Internal(format!("`{}`: {e}", path.display()))
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(path, e))?;
    }
    Ok(())
}

/// The synthetic accounts: `user00001@demo.example` and so on, spread over
/// regions. The demo mail service (`writ_connect::demo`) gives each the
/// same address and region; a change here goes there too.
fn synthetic() -> Vec<AccountRow> {
    (1..=SYNTHETIC_ACCOUNTS)
        .map(|i| {
            let region = REGIONS[i % REGIONS.len()];
            let id = format!("acct-demo-{i:05}");
            let email = format!("user{i:05}@demo.example");
            let username = format!("user{i:05}");
            let body = serde_json::json!({
                "id": id,
                "identifiers": [
                    {"kind": "email", "value": email},
                    {"kind": "username", "value": username},
                ],
                "data_location": region,
                "holder": {"us_person": region == "US", "located_in": region},
                "status": "active",
            });
            AccountRow {
                identifiers: vec![
                    ("account_id".into(), id.clone()),
                    ("email".into(), email),
                    ("username".into(), username),
                ],
                id,
                body: body.to_string(),
            }
        })
        .collect()
}

fn account_row(a: &Account) -> Result<AccountRow> {
    let mut identifiers = vec![("account_id".to_owned(), a.id.as_str().to_owned())];
    for ident in &a.identifiers {
        let kind = ident.kind.target_kind();
        identifiers.push((
            kind.as_str().to_owned(),
            writ_model::order::normalize(kind, &ident.value),
        ));
    }
    Ok(AccountRow {
        id: a.id.as_str().to_owned(),
        body: serde_json::to_string(a)?,
        identifiers,
    })
}

/// What seeding did.
#[derive(Debug)]
pub struct Seeded {
    /// False when the store had been seeded before.
    pub fresh: bool,
    pub users_file: PathBuf,
}

impl Gateway {
    /// Seeds the demo into an empty store and writes the agencies' keys and
    /// the console users under `<data>/demo/`. Does nothing the second time.
    pub async fn seed_demo(&self, data: &Path) -> Result<Seeded> {
        let dir = writ_objects::layout::demo(data);
        let users_file = dir.join("console-users.txt");
        let marker = format!("seeding-{}", hex::encode(random_bytes::<8>()?));
        let winner = self
            .store()
            .meta_insert_if_absent("demo_seeded", &marker)
            .await?;
        if winner != marker {
            return Ok(Seeded {
                fresh: false,
                users_file,
            });
        }
        let fixture = fixture()?;
        for (i, agency) in fixture.agencies.iter().enumerate() {
            let id = agency.id.as_str();
            let (signing, key_text) = new_signing_key()?;
            let identity = age::x25519::Identity::generate();
            let recipient = identity.to_public().to_string();
            let adir = dir.join("agencies").join(id);
            write_new(&adir.join("signing.key"), &key_text)?;
            write_new(
                &adir.join("age-identity.txt"),
                &format!(
                    "# public key: {recipient}\n{}\n",
                    identity.to_string().expose_secret()
                ),
            )?;
            let callback = format!("+1202555{:04}", 1000 + i);
            self.add_agency(agency, &[callback], Some(&recipient), "demo")
                .await?;
            let public = signing.verifying_key();
            self.add_agency_key(
                id,
                &key_id(id, &public),
                &B64.encode(public.as_bytes()),
                "demo",
            )
            .await?;
        }
        let mut rows = fixture
            .accounts
            .iter()
            .map(account_row)
            .collect::<Result<Vec<_>>>()?;
        rows.extend(synthetic());
        self.store().insert_accounts(&rows).await?;
        self.directory_changed();

        let mut lines = String::new();
        for (name, role) in [
            ("rita", Role::Reviewer),
            ("alex", Role::Approver),
            ("avery", Role::Approver),
            ("adam", Role::Admin),
        ] {
            let u = self.create_user(name, role).await?;
            lines.push_str(&format!(
                "{} {name} {} {} {}\n",
                role.as_str(),
                u.password,
                u.otpauth_uri,
                u.token
            ));
        }
        write_new(&users_file, &lines)?;
        // An officer of the demo's FBI field office, an officer-admin: signs
        // in to the portal with a code from this secret, then registers a
        // passkey.
        let admin = crate::auth::User {
            name: "demo".into(),
            role: Role::Admin,
        };
        let officer = self
            .add_officer(
                crate::officers::OfficerAdmin::Staff(&admin),
                "us-fbi-wfo",
                &crate::officers::NewOfficer {
                    name: "Dana Reyes".into(),
                    title: "Special Agent".into(),
                    badge: "4411".into(),
                    email: "dana.reyes@fbi.example".into(),
                    phone: "+12025550100".into(),
                    admin: true,
                },
            )
            .await?;
        write_new(
            &dir.join("portal-officers.txt"),
            &format!(
                "{} {} {} {}\n",
                officer.officer.agency_id,
                officer.officer.email,
                officer.totp_secret,
                officer.otpauth_uri
            ),
        )?;
        Ok(Seeded {
            fresh: true,
            users_file,
        })
    }
}

/// Reads `console-users.txt`: `(role, name, token)` per line.
pub fn read_users(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 5).then(|| (f[0].to_owned(), f[1].to_owned(), f[4].to_owned()))
        })
        .collect()
}
