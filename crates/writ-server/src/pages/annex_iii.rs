//! The Annex III form of Regulation (EU) 2023/1543: what a question that
//! says a European Production Order is incomplete tells the issuing
//! authority and, for a notified order, the enforcing authority (Art.
//! 10(5)), including whether the data was preserved meanwhile (Art.
//! 10(9)). Shown with the question in the console and the portal
//! (docs/legal-rules.md, "Clarification").

use maud::{Markup, html};
use writ_store::MessageRow;

/// The form for question `m` (an `incomplete` one), addressed to
/// `issuing` (how the reader names the issuing authority).
pub(crate) fn form(m: &MessageRow, issuing: &str) -> Markup {
    html! {
        section.annex-iii aria-label="Annex III form" {
            h3 { "Annex III — the European Production Order cannot be executed as it stands (Regulation (EU) 2023/1543, Art. 10(5))" }
            dl {
                dt { "To" }
                dd { "The issuing authority: " (issuing) }
                dt { "And to" }
                dd { @match &m.enforcing {
                    Some(e) => { "The enforcing authority the order was notified to: " (e) " (Art. 8). The provider's staff send it this form by the channel that authority uses." },
                    None => "Nobody else: the order names no enforcing authority, so it was not notified.",
                } }
                dt { "Why" }
                dd { "The certificate is incomplete, contains manifest errors or lacks information needed to execute it."
                     @if !m.fields.is_empty() { " Fields at issue: " (m.fields.join(", ")) "." } }
                dt { "Deadlines" }
                dd { "The 10-day and 8-hour deadlines do not apply until the clarification arrives; the issuing authority is asked to answer within 5 days. When the answer arrives, the whole window starts again." }
                dt { "Preservation (Art. 10(9))" }
                dd { @match m.preserved {
                    Some(n) if n > 0 => { "The data requested was preserved on " (n) @if n == 1 { " account" } @else { " accounts" } ", without an end date, until it is produced or the order ends." },
                    _ => "The data could not be preserved: the order does not allow it to be identified.",
                } }
            }
        }
    }
}
