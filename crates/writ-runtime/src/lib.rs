//! What a Writ server runs besides answering requests: the loops that move
//! the outbox into the transparency log ([`Publisher`], or [`Leader`] when
//! several servers share PostgreSQL and one sequences), deliver packages
//! ([`Delivery`]), sweep old package objects ([`Sweep`]) and read the
//! legal-process mailbox ([`MailboxPoller`]).
//!
//! Each is a struct built from what it needs, with `async fn run(self,
//! shutdown)` that returns once [`Shutdown`] is signalled and its last work
//! is done. The server assembles and spawns them; this crate never serves
//! HTTP.

mod delivery;
mod leader;
mod mailbox;
mod publisher;

pub use delivery::{ConnectorSpec, Delivery, ProviderError, Sweep, provider};
pub use leader::Leader;
pub use mailbox::{ImapSpec, MailboxError, MailboxPoller, poll as poll_mailbox};
pub use publisher::Publisher;

use tokio::sync::watch;

/// Tells the loops that hold a [`Shutdown`] to stop.
#[derive(Debug)]
pub struct ShutdownSignal(watch::Sender<bool>);

/// The receiving side of a [`ShutdownSignal`]; clones stop together.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

impl ShutdownSignal {
    pub fn new() -> (ShutdownSignal, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownSignal(tx), Shutdown(rx))
    }

    /// Asks every holder of a [`Shutdown`] of this signal to stop.
    pub fn signal(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    /// Resolves once shutdown is signalled (or the signal is dropped).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|s| *s).await;
    }

    /// Whether shutdown has been signalled (or the signal dropped).
    pub fn requested(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }
}
