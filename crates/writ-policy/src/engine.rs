//! The decision procedure of `docs/legal-rules.md`, "How a decision is made".
//!
//! Cedar says which rules fire; this module orders them into a decision:
//! refusals first (step 1), then pair statuses (step 2), order-level review
//! triggers (step 3), the outcome (step 4) and the dates (step 5).

use std::borrow::Cow;
use std::collections::HashMap;

use cedar_policy::{Context, EntityUid};
use writ_model::decision::{Notify, PolicyRef};
use writ_model::{
    Category, Country, Decision, DecisionInput, Instrument, NotifyWhen, Order, Outcome,
    PairDecision, Reason, ReasonCode, Status, Timestamp,
};

use crate::compiled::RuleSet;
use crate::facts::{self, Facts, Names, Resolution, is_qualifying_epoc_emergency};
use crate::instants::Instants;
use crate::pack::{Level, Pack};

/// The code Writ reports when a rule could not be evaluated: the pair (or the
/// order) is refused rather than let through.
pub const POLICY_ERROR: &str = "policy_error";
/// Section H: a target that resolves to nothing or to a purged account.
pub const NO_DATA_FOUND: &str = "no_data_found";

/// A rule that fired, as reported. It borrows the pack's texts: they are
/// copied once, into the decision's reasons.
#[derive(Clone, Debug)]
struct Fired<'a> {
    code: &'a str,
    level: Level,
    message: Cow<'a, str>,
    citation: &'a str,
    rank: usize,
}

/// What the rules said about one request.
#[derive(Default)]
struct Verdict<'a> {
    fired: Vec<Fired<'a>>,
}

impl<'a> Verdict<'a> {
    fn of(&self, level: Level) -> impl Iterator<Item = &Fired<'a>> {
        self.fired.iter().filter(move |f| f.level == level)
    }

    fn any(&self, level: Level) -> bool {
        self.of(level).next().is_some()
    }

    fn error(level: Level, message: String) -> Self {
        Verdict {
            fired: vec![Fired {
                code: POLICY_ERROR,
                level,
                message: Cow::Owned(message),
                citation: "the policy pack (a rule could not be evaluated: fail closed)",
                rank: usize::MAX,
            }],
        }
    }
}

/// Runs one Cedar request and reads what fired. Cedar skips a policy whose
/// evaluation errors, and a skipped `forbid` could turn a refusal into a
/// grant, so any error is itself a refusal (`error_level`).
fn evaluate<'a>(
    pack: &'a Pack,
    set: &RuleSet,
    facts: &Facts,
    action: &EntityUid,
    resource: &EntityUid,
    context: Option<&Context>,
    error_level: Level,
) -> Verdict<'a> {
    let Some(context) = context else {
        return Verdict::error(
            error_level,
            "the request could not be built: no context for this request".to_owned(),
        );
    };
    let answer = set.authorize(
        &facts.principal,
        action,
        resource,
        context,
        &facts.entities,
        pack.cedar_authorizer,
    );
    if !answer.errors.is_empty() {
        return Verdict::error(error_level, answer.errors.join("; "));
    }
    let mut verdict = Verdict::default();
    if !answer.allowed {
        for id in &answer.reasons {
            match pack.rule(id) {
                Some(rule) => verdict.fired.push(Fired {
                    code: &rule.code,
                    level: rule.level,
                    message: Cow::Borrowed(&rule.message),
                    citation: &rule.citation,
                    rank: rule.rank,
                }),
                None => {
                    return Verdict::error(
                        error_level,
                        format!("policy `{id}` denied without being a rule of the pack"),
                    );
                }
            }
        }
        if verdict.fired.is_empty() {
            // A Deny with no determining policy means no base permit applied.
            return Verdict::error(error_level, "no rule allowed the request".to_owned());
        }
    }
    verdict.fired.sort_by_key(|f| f.rank);
    verdict
}

/// Reasons of one place: each code once, in pack order.
fn reasons_of<'a, 'b: 'a>(
    fired: impl Iterator<Item = &'a Fired<'b>>,
    target: Option<&str>,
    category: Option<Category>,
    out: &mut Vec<Reason>,
) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for f in fired {
        if codes.iter().any(|c| c == f.code) {
            continue;
        }
        codes.push(f.code.to_owned());
        out.push(Reason {
            code: f.code.to_owned(),
            target: target.map(str::to_owned),
            category,
            message: f.message.clone().into_owned(),
            citation: f.citation.to_owned(),
        });
    }
    codes
}

/// Decides an order. This never fails: a rule that cannot be evaluated
/// refuses what it was asked about, and says so in the reasons.
pub fn decide(pack: &Pack, input: &DecisionInput) -> Decision {
    let mut decision = decide_order(pack, input);
    channel(&input.order, &mut decision);
    decision
}

/// Where the rule book says how a transcribed order is held.
const CHANNEL_CITATION: &str =
    "Writ's rule book, \"Orders transcribed by staff\" (docs/legal-rules.md)";

/// Orders transcribed by staff (docs/legal-rules.md, "Orders transcribed
/// by staff"): until a callback to the agency's registered number verifies
/// the channel, the order-level review reason `channel_unverified` holds
/// every release (preservation holds excepted); a callback in which the
/// agency does not confirm the order refuses it as a whole
/// (`channel_refuted`). Orders refused at step 1 stay as they are.
fn channel(order: &Order, decision: &mut Decision) {
    let Some(t) = &order.transcription else {
        return;
    };
    if decision.ends_case() && decision.decisions.is_empty() {
        return;
    }
    match &t.check {
        Some(c) if c.verified => {}
        Some(_) => {
            decision.decisions.clear();
            decision.not_before = None;
            decision.preserve_until = None;
            decision.outcome = Outcome::Reject;
            decision.reasons = vec![Reason {
                code: ReasonCode::CHANNEL_REFUTED.into(),
                target: None,
                category: None,
                message: format!(
                    "the order arrived by {} and the agency, called back on its registered number, did not confirm sending it",
                    t.channel.label()
                ),
                citation: CHANNEL_CITATION.into(),
            }];
        }
        None => {
            decision.reasons.push(Reason {
                code: ReasonCode::CHANNEL_UNVERIFIED.into(),
                target: None,
                category: None,
                message: format!(
                    "the order arrived by {} and was transcribed by staff; nothing is released until a callback to the agency's registered number confirms that the agency sent it",
                    t.channel.label()
                ),
                citation: CHANNEL_CITATION.into(),
            });
            if !decision.ends_case() {
                decision.outcome = Outcome::Review;
            }
        }
    }
}

fn decide_order(pack: &Pack, input: &DecisionInput) -> Decision {
    let order = &input.order;
    let now = input.now;
    let params = &pack.params;
    let submitter_country = facts::submitter(input).map(|a| a.country);
    let resolved: Vec<Resolution<'_>> = order
        .targets
        .iter()
        .map(|t| facts::resolve(t, &input.accounts))
        .collect();

    // Every comparison of instants, once: the rules and the dates below read
    // the same answers.
    let instants = Instants::of(input, params);
    let due_at = due_at(order, now, instants.respond_by_after_now, params);
    let mut decision = Decision {
        outcome: Outcome::Reject,
        decisions: Vec::new(),
        reasons: Vec::new(),
        due_at,
        not_before: None,
        preserve_until: None,
        notify: Notify {
            when: NotifyWhen::None,
            at: None,
        },
        policy: PolicyRef {
            id: pack.id.clone(),
            version: pack.version.clone(),
        },
    };

    let built = Facts::build(input, &instants, &resolved);
    let facts = match built {
        Ok(f) => f,
        Err(e) => {
            let v = Verdict::error(Level::Refusal, format!("the facts could not be built: {e}"));
            reasons_of(v.fired.iter(), None, None, &mut decision.reasons);
            return decision;
        }
    };
    let names = match Names::get() {
        Ok(n) => n,
        Err(e) => {
            let v = Verdict::error(
                Level::Refusal,
                format!("the names could not be parsed: {e}"),
            );
            reasons_of(v.fired.iter(), None, None, &mut decision.reasons);
            return decision;
        }
    };

    // Only the rules that can fire for this order's shape (`slice.rs`).
    let sliced = match pack.slices.for_shape(&facts.shape) {
        Ok(s) => s,
        Err(e) => {
            let v = Verdict::error(Level::Refusal, format!("the pack could not be sliced: {e}"));
            reasons_of(v.fired.iter(), None, None, &mut decision.reasons);
            return decision;
        }
    };

    // Step 1: order-level refusals.
    let order_rules = sliced.as_ref().map_or(&pack.order_rules, |s| &s.order);
    let order_verdict = evaluate(
        pack,
        order_rules,
        &facts,
        &names.accept,
        &names.order,
        Some(&pack.contexts.order),
        Level::Refusal,
    );
    if order_verdict.any(Level::Refusal) {
        reasons_of(
            order_verdict.of(Level::Refusal),
            None,
            None,
            &mut decision.reasons,
        );
        return decision;
    }

    // Step 2: one status per (target, category) pair.
    let granted = if order.instrument.is_preservation() {
        Status::Preserve
    } else {
        Status::Grant
    };
    let mut pair_reasons = Vec::new();
    // Identical requests (same account facts, same category) get the same
    // answer; each is evaluated once per decision.
    let mut verdicts: HashMap<(String, Category), Verdict<'_>> = HashMap::new();
    for (target, resolution) in order.targets.iter().zip(&resolved) {
        let label = target.label();
        let account = resolution.account();
        for &category in order.categories() {
            let (status, reasons) = match resolution {
                Resolution::Missing | Resolution::Purged(_) => {
                    let f = Fired {
                        code: NO_DATA_FOUND,
                        level: Level::Deny,
                        message: Cow::Borrowed("no account holding data matches this target"),
                        citation: "the account directory",
                        rank: 0,
                    };
                    let codes = reasons_of(
                        std::iter::once(&f),
                        Some(&label),
                        Some(category),
                        &mut pair_reasons,
                    );
                    (Status::NoData, codes)
                }
                Resolution::Found(account) => {
                    let key = facts::account_key(account);
                    let verdict = verdicts
                        .entry((key, category))
                        .or_insert_with_key(|(key, _)| {
                            let rules = sliced
                                .as_ref()
                                .and_then(|s| s.pair(category))
                                .unwrap_or(&pack.pair_rules);
                            evaluate(
                                pack,
                                rules,
                                &facts,
                                &names.disclose,
                                &names.account(key),
                                pack.contexts.pair(category),
                                Level::Deny,
                            )
                        });
                    // The strongest status wins, and only its codes are
                    // reported: deny over review over grant.
                    let (status, level) = if verdict.any(Level::Deny) {
                        (Status::Deny, Some(Level::Deny))
                    } else if verdict.any(Level::Review) {
                        (Status::Review, Some(Level::Review))
                    } else {
                        (granted, None)
                    };
                    let codes = match level {
                        Some(level) => reasons_of(
                            verdict.of(level),
                            Some(&label),
                            Some(category),
                            &mut pair_reasons,
                        ),
                        None => Vec::new(),
                    };
                    (status, codes)
                }
            };
            decision.decisions.push(PairDecision {
                target: label.clone(),
                account: account.map(|a| a.id.to_string()),
                category,
                status,
                data_location: account.map(|a| a.data_location),
                reasons,
            });
        }
    }
    decision.reasons.extend(pair_reasons);

    // Dates that look at the statuses of step 2, before the triggers.
    decision.not_before = not_before(
        order,
        now,
        submitter_country,
        &decision.decisions,
        &resolved,
    );
    if decision
        .decisions
        .iter()
        .any(|p| p.status == Status::Preserve)
    {
        decision.preserve_until = preserve_until(input, now);
    }

    // Step 3: order-level review triggers turn every granted pair to review.
    if order_verdict.any(Level::Trigger) {
        for pair in &mut decision.decisions {
            if pair.status.is_granted() {
                pair.status = Status::Review;
            }
        }
        reasons_of(
            order_verdict.of(Level::Trigger),
            None,
            None,
            &mut decision.reasons,
        );
    }
    // Informational codes change no status.
    reasons_of(
        order_verdict.of(Level::Info),
        None,
        None,
        &mut decision.reasons,
    );

    // Step 4: the outcome.
    let statuses: Vec<Status> = decision.decisions.iter().map(|p| p.status).collect();
    decision.recompute_outcome();

    let gag_not_binding = order_verdict
        .of(Level::Info)
        .any(|f| f.code == "gag_not_binding");
    decision.notify = notify(order, &instants, gag_not_binding, &statuses);
    decision
}

/// Section P.
fn due_at(
    order: &Order,
    now: Timestamp,
    respond_by_after_now: bool,
    params: &crate::Parameters,
) -> Timestamp {
    match order.instrument {
        Instrument::EmergencyRequest => now.plus_minutes(i64::from(params.emergency_sla_minutes)),
        Instrument::Epoc if is_qualifying_epoc_emergency(order) => now.plus_hours(8),
        Instrument::Epoc => now.plus_days(10),
        Instrument::PreservationRequest | Instrument::EpocPr => now.plus_hours(24),
        _ => match order.respond_by {
            Some(t) if respond_by_after_now => t,
            _ => now.plus_days(i64::from(params.default_response_days)),
        },
    }
}

/// Section I, "Notified EPOCs": a granted traffic, location or content pair of
/// an EPOC that is not a qualifying emergency may not be transmitted before
/// 10 days, unless the offence was committed in the issuing State and the
/// person lives there (Art. 8(2)).
fn not_before(
    order: &Order,
    now: Timestamp,
    issuing: Option<Country>,
    pairs: &[PairDecision],
    resolved: &[Resolution<'_>],
) -> Option<Timestamp> {
    if order.instrument != Instrument::Epoc || is_qualifying_epoc_emergency(order) {
        return None;
    }
    let committed_in = order.offence.as_ref().and_then(|o| o.committed_in);
    let per_target = order.categories().len();
    let notified = pairs.iter().enumerate().any(|(i, pair)| {
        let domestic = per_target > 0
            && resolved
                .get(i / per_target)
                .and_then(|r| r.account())
                .is_some_and(|a| {
                    issuing.is_some()
                        && committed_in == issuing
                        && Some(a.holder.located_in) == issuing
                });
        pair.status == Status::Grant
            && matches!(
                pair.category,
                Category::Traffic | Category::Location | Category::Content
            )
            && !domestic
    });
    notified.then(|| now.plus_days(10))
}

/// Section M.
fn preserve_until(input: &DecisionInput, now: Timestamp) -> Option<Timestamp> {
    let hold = facts::renewed_hold(input);
    match input.order.instrument {
        Instrument::PreservationRequest => Some(match hold {
            Some(h) => h.preserve_until.plus_days(90),
            None => now.plus_days(90),
        }),
        Instrument::EpocPr => Some(match hold {
            Some(h) => h.preserve_until.plus_days(30),
            None => now.plus_days(60),
        }),
        _ => None,
    }
}

/// Section L: the first line that applies decides `notify`. Whether a
/// secrecy order binds (line 5) is the pack's to say: it is read from its
/// `gag_not_binding` code rather than decided a second time here.
fn notify(
    order: &Order,
    instants: &Instants,
    gag_not_binding: bool,
    statuses: &[Status],
) -> Notify {
    let at = |when, at| Notify { when, at };
    let live = statuses
        .iter()
        .any(|s| matches!(s, Status::Grant | Status::Review));
    // A secrecy order whose `until` is not after `now` has lapsed: the same
    // answer the rules read as `non_disclosure.live`.
    let gag = order
        .non_disclosure
        .as_ref()
        .filter(|_| instants.gag.is_some_and(|g| g.live));
    if order.instrument.is_preservation() || !live {
        return at(NotifyWhen::None, None);
    }
    if order.instrument == Instrument::Epoc {
        return at(NotifyWhen::IssuingAuthority, None);
    }
    let Some(gag) = gag else {
        return if order.instrument == Instrument::EmergencyRequest {
            at(NotifyWhen::Withheld, None)
        } else {
            at(NotifyWhen::OnDisclosure, None)
        };
    };
    if gag_not_binding {
        return at(NotifyWhen::OnDisclosure, None);
    }
    match gag.until {
        None => at(NotifyWhen::Withheld, None),
        Some(until) => at(NotifyWhen::After, Some(until)),
    }
}
