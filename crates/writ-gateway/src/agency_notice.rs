//! Agency notifications (docs/http.md, "Agency notifications"): an agency
//! is told when one of its cases is decided, when a second person settled
//! it, when its staff ask a question about the order, when a package is
//! ready and when a package is about to expire, by
//! e-mail to its contact address and, if the provider's admins set one, by
//! a webhook signed the Standard Webhooks way. Messages carry a link to the
//! portal and the case id, never the case's contents: a mailbox or an
//! endpoint may be read by others.
//!
//! A webhook URL is checked when an admin sets it and again on every
//! connection: every address its name resolves to must be a public one
//! ([`public_address`]), the connection goes to an address that was
//! checked (no second lookup), no proxy is used and redirects are not
//! followed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};

use base64::Engine;
use serde_json::json;
use writ_model::{AgencyStatus, Timestamp};
use writ_store::{AgencyNotificationRow, ContactRow};

use crate::auth::{Role, User};
use crate::notice::{NOTICE_ATTEMPTS, SmtpConfig, retry_delay, webhook_signature};
use crate::{Gateway, GatewayError, Result, epoch, random_bytes};

/// Where agency notifications go and what they link to.
#[derive(Clone, Debug, Default)]
pub struct AgencyNoticeConfig {
    /// One `.eml` file per e-mail (the demo's outbox for agencies).
    pub outbox: Option<PathBuf>,
    pub smtp: Option<SmtpConfig>,
    /// The server's public address, for the portal links.
    pub public_url: String,
    /// Who the messages are from.
    pub provider: String,
    /// Allow webhooks to loopback addresses (tests and a local demo only).
    pub allow_loopback: bool,
}

/// How far back the first pass of a process looks for changes to
/// announce: what changed while no server ran, up to a week.
const FIRST_LOOK_BACK: i64 = 7 * 24 * 3600;

/// The watermark of the passes: cases changed at or after it are looked at.
#[derive(Debug, Default)]
pub(crate) struct Watermark(AtomicI64);

/// Whether `ip` is an address a webhook may reach: not loopback (unless
/// `allow_loopback`), private, link-local, carrier-grade NAT
/// (100.64.0.0/10), unspecified (0.0.0.0/8, `::`), broadcast, multicast,
/// documentation or reserved, in IPv4, IPv6 and IPv4-mapped or -compatible
/// IPv6 forms.
pub fn public_address(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4, allow_loopback),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4, allow_loopback);
            }
            let s = v6.segments();
            // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96).
            if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
                return public_v4(
                    v6.to_ipv4().unwrap_or(Ipv4Addr::UNSPECIFIED),
                    allow_loopback,
                );
            }
            if s[0] == 0x64 && s[1] == 0xff9b {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return public_v4(v4, allow_loopback);
            }
            if v6.is_loopback() {
                return allow_loopback;
            }
            !(v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

fn public_v4(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        return allow_loopback;
    }
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // 0.0.0.0/8
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// A webhook URL as an admin may set it: `http` or `https`, a host, no
/// user or password; the host's addresses are checked when connecting.
pub fn check_webhook_url(url: &str) -> std::result::Result<(String, u16), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let port = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => {
            return Err(format!(
                "`{url}`: a webhook URL starts with https:// or http://"
            ));
        }
    };
    let authority = uri.authority().ok_or_else(|| format!("`{url}`: no host"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "`{url}`: a user name or password has no place in a webhook URL"
        ));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("`{url}`: no host"));
    }
    Ok((host.to_owned(), authority.port_u16().unwrap_or(port)))
}

/// Resolves `host` and refuses it unless every address is public.
pub fn resolve_public(
    host: &str,
    port: u16,
    allow_loopback: bool,
) -> std::result::Result<Vec<SocketAddr>, String> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("`{host}` has no address"));
    }
    if let Some(bad) = addrs
        .iter()
        .find(|a| !public_address(a.ip(), allow_loopback))
    {
        return Err(format!(
            "`{host}` resolves to {}, which is not a public address; webhooks go only to public addresses",
            bad.ip()
        ));
    }
    Ok(addrs)
}

/// A name resolver for webhooks: every address checked, the connection
/// made to those addresses only.
#[derive(Debug)]
struct PublicOnly {
    allow_loopback: bool,
}

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let addrs = ureq::unversioned::resolver::DefaultResolver::default()
            .resolve(uri, config, timeout)?;
        if let Some(bad) = addrs
            .iter()
            .find(|a| !public_address(a.ip(), self.allow_loopback))
        {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} is not a public address; webhooks go only to public addresses",
                    bad.ip()
                ),
            )));
        }
        Ok(addrs)
    }
}

/// The HTTP agent webhooks are posted with.
fn webhook_agent(allow_loopback: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(15)))
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        PublicOnly { allow_loopback },
    )
}

/// What an admin sets: an e-mail address and a webhook URL, either empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifySettings {
    pub email: String,
    pub webhook_url: String,
}

/// What a kind of notification says, in its subject and its webhook type.
fn kind_words(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "decided" => ("decided", "case.decided"),
        "reviewed" => ("settled by the provider's review", "case.reviewed"),
        "clarification" => (
            "the provider asks a question about the order",
            "case.clarification_requested",
        ),
        "package_ready" => ("a package is ready to download", "package.ready"),
        "package_expiring" => ("a package expires within three days", "package.expiring"),
        _ => ("updated", "case.updated"),
    }
}

/// How a console page names an announcement: its kind, and the package
/// generation or question it concerns.
pub fn describe(n: &AgencyNotificationRow) -> String {
    let (words, _) = kind_words(&n.kind);
    match n.kind.as_str() {
        "package_ready" | "package_expiring" => format!("{words} (package {})", n.generation),
        "clarification" => format!("{words} (question {})", n.generation),
        _ => words.to_owned(),
    }
}

impl Gateway {
    /// Sets where agency `id` is notified (admins only). A webhook URL must
    /// be `http(s)` and resolve to public addresses only; setting a new one
    /// makes a new signing secret. Empty fields turn that channel off.
    pub async fn set_agency_notify(
        &self,
        actor: &User,
        id: &str,
        settings: &NotifySettings,
        allow_loopback: bool,
        now: Timestamp,
    ) -> Result<ContactRow> {
        if actor.role != Role::Admin {
            return Err(GatewayError::Forbidden(
                "only an admin sets where an agency is notified".into(),
            ));
        }
        let input = |field: &str, message: String| {
            GatewayError::Input(writ_model::InputError::at(field, message))
        };
        let email = settings.email.trim();
        if !email.is_empty() {
            email
                .parse::<lettre::Address>()
                .map_err(|e| input("email", format!("`{email}` is not an e-mail address: {e}")))?;
        }
        let url = settings.webhook_url.trim();
        if !url.is_empty() {
            let (host, port) = check_webhook_url(url).map_err(|e| input("webhook_url", e))?;
            let checked =
                tokio::task::spawn_blocking(move || resolve_public(&host, port, allow_loopback))
                    .await
                    .map_err(|e| GatewayError::Internal(format!("resolving: {e}")))?;
            checked.map_err(|e| input("webhook_url", e))?;
        }
        let old = self.store().agency_notify(id).await?;
        let secret = match (&old, url.is_empty()) {
            (_, true) => None,
            (Some(o), false) if o.webhook_url.as_deref() == Some(url) => o.webhook_secret.clone(),
            _ => Some(format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(random_bytes::<24>()?)
            )),
        };
        let row = ContactRow {
            agency_id: id.to_owned(),
            email: (!email.is_empty()).then(|| email.to_owned()),
            webhook_url: (!url.is_empty()).then(|| url.to_owned()),
            webhook_secret: secret,
            since: old.as_ref().map_or(epoch(now), |o| o.since),
            updated_at: epoch(now),
        };
        self.store().set_agency_notify(&row, &actor.name).await?;
        Ok(row)
    }

    /// Where agency `id` is notified, if anywhere.
    pub async fn agency_notify(&self, id: &str) -> Result<Option<ContactRow>> {
        Ok(self.store().agency_notify(id).await?)
    }

    /// An agency's latest notifications, newest first.
    pub async fn agency_notifications(&self, id: &str) -> Result<Vec<AgencyNotificationRow>> {
        Ok(self.store().agency_notifications(id, 20).await?)
    }

    /// Finds what is to be announced and sends what is due; how many were
    /// sent. Part of the delivery pass.
    pub(crate) async fn notify_agencies(
        &self,
        config: &AgencyNoticeConfig,
        watermark: &Watermark,
        now: Timestamp,
    ) -> Result<usize> {
        let now_s = epoch(now);
        let mark = match watermark.0.load(Ordering::SeqCst) {
            0 => now_s - FIRST_LOOK_BACK,
            m => m,
        };
        self.store().find_agency_notifications(mark, now_s).await?;
        // Changes written while this pass looked are seen by the next one.
        watermark.0.store(now_s - 5, Ordering::SeqCst);
        let mut sent = 0;
        for n in self.store().due_agency_notifications(now_s, 32).await? {
            let outcome = self.send_agency_notification(config, &n, now).await;
            match outcome {
                Ok(()) => {
                    sent += 1;
                    self.store()
                        .agency_notification_tried(&n.id, Ok(now_s))
                        .await?;
                }
                Err(e) => {
                    let attempts = n.attempts + 1;
                    let retry = (attempts < NOTICE_ATTEMPTS).then(|| now_s + retry_delay(attempts));
                    tracing::warn!(
                        agency = %n.agency_id,
                        case = %n.case_id,
                        kind = %n.kind,
                        attempts,
                        given_up = retry.is_none(),
                        "agency notification not sent: {e}"
                    );
                    let text = e.to_string();
                    self.store()
                        .agency_notification_tried(&n.id, Err((&text, retry)))
                        .await?;
                }
            }
        }
        Ok(sent)
    }

    async fn send_agency_notification(
        &self,
        config: &AgencyNoticeConfig,
        n: &AgencyNotificationRow,
        now: Timestamp,
    ) -> Result<()> {
        let Some(contact) = self.store().agency_notify(&n.agency_id).await? else {
            return Ok(());
        };
        // A suspended agency is told nothing.
        if let Some(a) = self.store().agency(&n.agency_id).await?
            && a.status == AgencyStatus::Suspended.as_str()
        {
            return Ok(());
        }
        let (words, event) = kind_words(&n.kind);
        let link = format!("{}/portal/cases/{}", config.public_url, n.case_id);
        let subject = format!("{}: case {} — {words}", config.provider, n.case_id);
        let text = format!(
            "Case {case}: {words}.\n\nSign in to the portal to read it:\n{link}\n\nThis message says nothing more about the case on purpose. It was sent to the contact address your agency registered with {provider}.\n",
            case = n.case_id,
            provider = config.provider,
        );
        let message_id = format!("<{}@writ-agency>", n.id.replace(':', "."));
        // The agency's contact address, and the officer who submitted the
        // order (one message to both).
        let mut recipients: Vec<String> = contact.email.iter().cloned().collect();
        if let Some(officer) = self.store().case_officer_email(&n.case_id).await?
            && !recipients.iter().any(|r| r.eq_ignore_ascii_case(&officer))
        {
            recipients.push(officer);
        }
        let config = config.clone();
        let contact = contact.clone();
        let n = n.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            if !recipients.is_empty() {
                send_mail(&config, &recipients, &subject, &text, &message_id, &n)?;
            }
            if let (Some(url), Some(secret)) = (&contact.webhook_url, &contact.webhook_secret) {
                let body = serde_json::to_vec(&json!({
                    "type": event,
                    "timestamp": now,
                    "data": {
                        "case": n.case_id,
                        "generation": (n.generation > 0).then_some(n.generation),
                        "url": link,
                    }
                }))?;
                let secret = crate::notice::WebhookConfig::new(url, secret)
                    .ok_or_else(|| {
                        GatewayError::Internal("the webhook secret is not whsec_<base64>".into())
                    })?
                    .secret;
                let ts = now.as_second();
                let signature = webhook_signature(&secret, &n.id, ts, &body)
                    .ok_or_else(|| GatewayError::Internal("webhook secret".into()))?;
                let answer = webhook_agent(config.allow_loopback)
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &n.id)
                    .header("webhook-timestamp", &ts.to_string())
                    .header("webhook-signature", &signature)
                    .send(&body[..])
                    .map_err(|e| GatewayError::Internal(format!("webhook: {e}")))?;
                if !answer.status().is_success() {
                    return Err(GatewayError::Internal(format!(
                        "webhook answered {}",
                        answer.status()
                    )));
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| GatewayError::Internal(format!("notification task: {e}")))?
    }
}

fn send_mail(
    config: &AgencyNoticeConfig,
    to: &[String],
    subject: &str,
    text: &str,
    message_id: &str,
    n: &AgencyNotificationRow,
) -> Result<()> {
    let bad = |m: String| GatewayError::Internal(m);
    let from = config
        .smtp
        .as_ref()
        .map_or("notices@writ.invalid", |s| s.from.as_str());
    let mut builder =
        lettre::Message::builder().from(from.parse().map_err(|e| bad(format!("from: {e}")))?);
    for address in to {
        builder = builder.to(address
            .parse()
            .map_err(|e| bad(format!("to `{address}`: {e}")))?);
    }
    let message = builder
        .subject(subject)
        .message_id(Some(message_id.to_owned()))
        .body(text.to_owned())
        .map_err(|e| bad(format!("message: {e}")))?;
    if let Some(dir) = &config.outbox {
        std::fs::create_dir_all(dir).map_err(|e| bad(format!("outbox: {e}")))?;
        let name = n.id.replace(':', ".");
        let tmp = dir.join(format!(".{name}.eml.tmp"));
        std::fs::write(&tmp, message.formatted()).map_err(|e| bad(format!("outbox: {e}")))?;
        std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
            .map_err(|e| bad(format!("outbox: {e}")))?;
    }
    if let Some(smtp) = &config.smtp {
        use lettre::Transport;
        lettre::SmtpTransport::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build()
            .send(&message)
            .map_err(|e| bad(format!("smtp: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_reached() {
        let refused = [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ];
        for ip in refused {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!public_address(ip, false), "{ip} should be refused");
        }
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(public_address(ip, false), "{ip} should be allowed");
        }
        // The test flag allows loopback, and nothing else.
        assert!(public_address("127.0.0.1".parse().unwrap(), true));
        assert!(public_address("::1".parse().unwrap(), true));
        assert!(public_address("::ffff:127.0.0.1".parse().unwrap(), true));
        assert!(!public_address("10.0.0.1".parse().unwrap(), true));
    }

    #[test]
    fn webhook_urls_are_checked() {
        assert_eq!(
            check_webhook_url("https://hooks.example.org/writ").unwrap(),
            ("hooks.example.org".into(), 443)
        );
        assert_eq!(
            check_webhook_url("http://[::1]:8080/x").unwrap(),
            ("::1".into(), 8080)
        );
        for bad in [
            "ftp://example.org/",
            "https://user:pw@example.org/",
            "example.org",
            "https:///x",
        ] {
            assert!(check_webhook_url(bad).is_err(), "{bad}");
        }
        let err = resolve_public("127.0.0.1", 80, false).unwrap_err();
        assert!(err.contains("not a public address"), "{err}");
        assert!(resolve_public("localhost", 80, false).is_err());
        assert!(resolve_public("127.0.0.1", 80, true).is_ok());
    }
}
