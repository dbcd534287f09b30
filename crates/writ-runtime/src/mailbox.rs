//! The legal-process mailbox (`writ serve --imap URL`): every interval, the
//! server that sequences the log reads the messages of an IMAP mailbox
//! above the highest UID kept for its UIDVALIDITY and hands each to the
//! gateway, which keeps it as a draft for staff to transcribe
//! ([`writ_gateway::mailbox`]).
//!
//! The mailbox is opened read-only (`EXAMINE`) and messages are fetched with
//! `BODY.PEEK[]`: nothing on the server is deleted, moved or marked.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Instrument as _;
use writ_gateway::Gateway;
use writ_gateway::mailbox::MAX_MESSAGE_BYTES;

use crate::Shutdown;

/// How long connecting and each IMAP exchange may take.
const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the mailbox is: `imap://user:password@host:port/MAILBOX` (plain,
/// for a server on the same machine or network) or `imaps://…` (TLS).
#[derive(Clone, PartialEq, Eq)]
pub struct ImapSpec {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// `INBOX` unless the URL names another.
    pub mailbox: String,
}

impl std::fmt::Debug for ImapSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSpec")
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for ImapSpec {
    /// The URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "imaps" } else { "imap" };
        write!(
            f,
            "{scheme}://{}@{}:{}/{}",
            self.user, self.host, self.port, self.mailbox
        )
    }
}

fn decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("`{s}` is not UTF-8 once decoded"))
}

impl ImapSpec {
    /// Reads `--imap URL`; `password` (from `--imap-password-file`) wins
    /// over one in the URL. Percent-encoded parts are decoded.
    pub fn parse(url: &str, password: Option<String>) -> Result<Self, String> {
        let u = url::Url::parse(url).map_err(|e| format!("--imap: {e}"))?;
        let (tls, default_port) = match u.scheme() {
            "imap" => (false, 143),
            "imaps" => (true, 993),
            other => {
                return Err(format!(
                    "--imap: the scheme is `{other}`; expected imap:// or imaps://"
                ));
            }
        };
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("--imap: the URL names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let user = decode(u.username())?;
        if user.is_empty() {
            return Err("--imap: the URL names no user (imap://user@host/)".into());
        }
        let password = match password {
            Some(p) => p,
            None => decode(u.password().unwrap_or_default())?,
        };
        if password.is_empty() {
            return Err("--imap: no password: put it in the URL or in --imap-password-file".into());
        }
        let mailbox = decode(u.path().trim_start_matches('/'))?;
        Ok(ImapSpec {
            tls,
            host,
            port: u.port().unwrap_or(default_port),
            user,
            password,
            mailbox: if mailbox.is_empty() {
                "INBOX".into()
            } else {
                mailbox
            },
        })
    }
}

/// Why a poll of the mailbox failed; the next one tries again.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("connecting to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("the server answered no {0}")]
    Missing(&'static str),
    #[error("timed out")]
    Timeout,
    #[error("imaps:// needs a build with the `imaps` feature")]
    NoTls,
    #[error("{0}")]
    Gateway(#[from] writ_gateway::GatewayError),
}

/// Bounds one exchange with the server.
async fn timed<T, E>(f: impl std::future::Future<Output = Result<T, E>>) -> Result<T, MailboxError>
where
    MailboxError: From<E>,
{
    match tokio::time::timeout(IO_TIMEOUT, f).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(MailboxError::Timeout),
    }
}

/// Polls the legal-process mailbox every `interval` while `active` says this
/// server is the one that does (the sequencer, as for delivery: with several
/// servers on one database, one polls).
pub struct MailboxPoller {
    gateway: Gateway,
    spec: ImapSpec,
    interval: Duration,
    active: Arc<AtomicBool>,
}

impl MailboxPoller {
    pub fn new(
        gateway: Gateway,
        spec: ImapSpec,
        interval: Duration,
        active: Arc<AtomicBool>,
    ) -> Self {
        Self {
            gateway,
            spec,
            interval,
            active,
        }
    }

    pub async fn run(self, shutdown: Shutdown) {
        self.run_inner(shutdown)
            .instrument(tracing::info_span!("mailbox"))
            .await;
    }

    async fn run_inner(self, mut shutdown: Shutdown) {
        // The highest UID read per UIDVALIDITY in this process: a message
        // that was not kept as a new row (a copy of one kept already) is
        // not read again at every poll.
        let mut read = HashMap::new();
        let mut failing = false;
        loop {
            if self.active.load(Ordering::SeqCst) {
                // Stopping halfway is safe: a message's objects are written
                // before its row, and a repeated fetch is harmless.
                let polled = tokio::select! {
                    _ = shutdown.wait() => return,
                    r = poll(&self.gateway, &self.spec, &mut read) => r,
                };
                match polled {
                    Ok(0) => failing = false,
                    Ok(kept) => {
                        failing = false;
                        tracing::info!(kept, mailbox = %self.spec, "kept new messages");
                    }
                    // Said once per outage, then quietly retried.
                    Err(e) if failing => tracing::debug!(error = %e, "mailbox poll failed"),
                    Err(e) => {
                        failing = true;
                        tracing::warn!(error = %e, mailbox = %self.spec, "mailbox poll failed");
                    }
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}

/// One poll: connects, reads what is new, logs out. How many messages were
/// kept as new drafts.
pub async fn poll(
    gateway: &Gateway,
    spec: &ImapSpec,
    read: &mut HashMap<u32, u32>,
) -> Result<usize, MailboxError> {
    let address = format!("{}:{}", spec.host, spec.port);
    let tcp = match tokio::time::timeout(
        IO_TIMEOUT,
        tokio::net::TcpStream::connect((spec.host.as_str(), spec.port)),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(MailboxError::Connect(address, e)),
        Err(_) => return Err(MailboxError::Timeout),
    };
    if spec.tls {
        #[cfg(feature = "imaps")]
        {
            let tls = tls_connect(&spec.host, tcp).await?;
            return session(gateway, spec, read, tls).await;
        }
        #[cfg(not(feature = "imaps"))]
        {
            drop(tcp);
            return Err(MailboxError::NoTls);
        }
    }
    session(gateway, spec, read, tcp).await
}

#[cfg(feature = "imaps")]
async fn tls_connect(
    host: &str,
    tcp: tokio::net::TcpStream,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, MailboxError> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| MailboxError::Connect(host.to_owned(), std::io::Error::other(e)))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| MailboxError::Connect(host.to_owned(), std::io::Error::other(e)))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match tokio::time::timeout(IO_TIMEOUT, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(MailboxError::Connect(host.to_owned(), e)),
        Err(_) => Err(MailboxError::Timeout),
    }
}

async fn session<T>(
    gateway: &Gateway,
    spec: &ImapSpec,
    read: &mut HashMap<u32, u32>,
    stream: T,
) -> Result<usize, MailboxError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = async_imap::Client::new(stream);
    match tokio::time::timeout(IO_TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(_))) => {}
        Ok(Ok(None)) => return Err(MailboxError::Missing("greeting")),
        Ok(Err(e)) => return Err(MailboxError::Connect(spec.host.clone(), e)),
        Err(_) => return Err(MailboxError::Timeout),
    }
    let mut session =
        match tokio::time::timeout(IO_TIMEOUT, client.login(&spec.user, &spec.password)).await {
            Ok(Ok(s)) => s,
            Ok(Err((e, _))) => return Err(e.into()),
            Err(_) => return Err(MailboxError::Timeout),
        };
    let kept = read_new(gateway, spec, read, &mut session).await;
    // Logging out is a courtesy; what was kept is kept.
    let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
    kept
}

async fn read_new<T>(
    gateway: &Gateway,
    spec: &ImapSpec,
    read: &mut HashMap<u32, u32>,
    session: &mut async_imap::Session<T>,
) -> Result<usize, MailboxError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mailbox = timed(session.examine(&spec.mailbox)).await?;
    let uidvalidity = mailbox
        .uid_validity
        .ok_or(MailboxError::Missing("UIDVALIDITY"))?;
    let last = gateway
        .mail_last_uid(uidvalidity)
        .await?
        .unwrap_or(0)
        .max(read.get(&uidvalidity).copied().unwrap_or(0));
    if mailbox.uid_next.is_some_and(|next| next <= last + 1) {
        return Ok(0);
    }
    let mut uids: Vec<u32> = timed(session.uid_search(format!("UID {}:*", last + 1)))
        .await?
        .into_iter()
        // `N:*` names the last message even when its UID is below N.
        .filter(|u| *u > last)
        .collect();
    uids.sort_unstable();
    let mut kept = 0;
    for uid in uids {
        let size = fetch_one(session, uid, "(UID RFC822.SIZE)")
            .await?
            .and_then(|f| f.size)
            .map(u64::from)
            .unwrap_or(0);
        let (query, oversize) = if size > MAX_MESSAGE_BYTES {
            ("(UID BODY.PEEK[HEADER])", Some(size))
        } else {
            ("(UID BODY.PEEK[])", None)
        };
        // A message expunged meanwhile is simply gone.
        let Some(fetch) = fetch_one(session, uid, query).await? else {
            continue;
        };
        let raw = match oversize {
            Some(_) => fetch.header(),
            None => fetch.body(),
        }
        .unwrap_or_default();
        if gateway.keep_mail(uidvalidity, uid, raw, oversize).await? == writ_store::MailAdded::Added
        {
            kept += 1;
        }
        read.insert(uidvalidity, uid);
    }
    Ok(kept)
}

/// The answer to `UID FETCH uid query` for that UID, if the message exists.
async fn fetch_one<T>(
    session: &mut async_imap::Session<T>,
    uid: u32,
    query: &str,
) -> Result<Option<async_imap::types::Fetch>, MailboxError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let fetches: Vec<async_imap::types::Fetch> = timed(async {
        session
            .uid_fetch(uid.to_string(), query)
            .await?
            .try_collect()
            .await
    })
    .await?;
    Ok(fetches.into_iter().find(|f| f.uid == Some(uid)))
}
