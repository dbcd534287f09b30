//! Policy packs: Cedar files plus a `policy.toml`, validated at load.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, EntityUid, Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator,
};

use crate::compiled::RuleSet;
use crate::params::{PackManifest, Parameters};

/// The schema every pack is validated against: the facts the engine gives.
pub const SCHEMA: &str = include_str!("../schema/writ.cedarschema");

/// The default pack, `writ-default`, embedded in the binary.
const EMBEDDED: &[(&str, &str)] = &[
    ("00-base.cedar", include_str!("../pack/00-base.cedar")),
    (
        "10-requester.cedar",
        include_str!("../pack/10-requester.cedar"),
    ),
    (
        "20-validity.cedar",
        include_str!("../pack/20-validity.cedar"),
    ),
    (
        "30-refusals.cedar",
        include_str!("../pack/30-refusals.cedar"),
    ),
    (
        "40-authority.cedar",
        include_str!("../pack/40-authority.cedar"),
    ),
    ("50-reach.cedar", include_str!("../pack/50-reach.cedar")),
    (
        "60-location.cedar",
        include_str!("../pack/60-location.cedar"),
    ),
    ("70-scope.cedar", include_str!("../pack/70-scope.cedar")),
    (
        "80-emergencies.cedar",
        include_str!("../pack/80-emergencies.cedar"),
    ),
    ("90-secrecy.cedar", include_str!("../pack/90-secrecy.cedar")),
];
const EMBEDDED_MANIFEST: &str = include_str!("../pack/policy.toml");

/// What a rule does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Order-level refusal: the order is rejected as a whole.
    Refusal,
    /// Order-level review trigger: every granted pair goes to review.
    Trigger,
    /// Informational: reported, changes nothing.
    Info,
    /// Pair-level deny.
    Deny,
    /// Pair-level review.
    Review,
}

impl Level {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "refusal" => Level::Refusal,
            "trigger" => Level::Trigger,
            "info" => Level::Info,
            "deny" => Level::Deny,
            "review" => Level::Review,
            _ => return None,
        })
    }

    /// Order-level rules answer the `accept` action; pair-level ones
    /// `disclose`.
    fn action(self) -> &'static str {
        match self {
            Level::Refusal | Level::Trigger | Level::Info => "accept",
            Level::Deny | Level::Review => "disclose",
        }
    }
}

/// A rule of the pack: a Cedar policy and what its annotations say.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub code: String,
    pub level: Level,
    pub message: String,
    pub citation: String,
    /// Position in the pack, for a stable order of reasons.
    pub rank: usize,
}

/// A loaded, validated policy pack.
#[derive(Clone, Debug)]
pub struct Pack {
    pub id: String,
    pub version: String,
    pub params: Parameters,
    pub(crate) order_rules: RuleSet,
    pub(crate) pair_rules: RuleSet,
    /// Evaluate through Cedar's `Authorizer` rather than the compiled sets
    /// (`compiled.rs`): for the tests that compare the two.
    pub(crate) cedar_authorizer: bool,
    pub(crate) rules: HashMap<PolicyId, Rule>,
    /// The request contexts, from the parameters.
    pub(crate) contexts: crate::facts::Contexts,
    /// The two sets sliced per request shape (`slice.rs`).
    pub(crate) slices: crate::slice::Slices,
}

/// Why a pack cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read policy folder `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn file_error(file: &str, message: impl std::fmt::Display) -> PackError {
    PackError::File {
        file: file.to_owned(),
        message: message.to_string(),
    }
}

impl Pack {
    /// The default pack that ships in the binary.
    pub fn embedded() -> Result<Self, PackError> {
        Self::from_sources(
            "policy.toml",
            EMBEDDED_MANIFEST,
            EMBEDDED
                .iter()
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned())),
        )
    }

    /// Loads a pack from a folder: every `*.cedar` file (in name order) and
    /// `policy.toml`.
    pub fn load_dir(dir: &Path) -> Result<Self, PackError> {
        let io = |source| PackError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "cedar") {
                files.push(path);
            }
        }
        files.sort();
        let mut sources = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).map_err(|source| PackError::Io {
                path: path.display().to_string(),
                source,
            })?;
            sources.push((path.display().to_string(), text));
        }
        let manifest_path = dir.join("policy.toml");
        let manifest = std::fs::read_to_string(&manifest_path).map_err(|source| PackError::Io {
            path: manifest_path.display().to_string(),
            source,
        })?;
        Self::from_sources(&manifest_path.display().to_string(), &manifest, sources)
    }

    /// Builds a pack from its texts: parse, name, annotate, validate, split,
    /// then check that it keeps the rules no pack may drop.
    pub fn from_sources(
        manifest_name: &str,
        manifest: &str,
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, PackError> {
        let manifest: PackManifest =
            toml::from_str(manifest).map_err(|e| file_error(manifest_name, e))?;
        let (schema, _warnings) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|e| PackError::Invalid(format!("built-in schema: {e}")))?;

        let mut all = PolicySet::new();
        let mut order_rules = PolicySet::new();
        let mut pair_rules = PolicySet::new();
        let mut rules = HashMap::new();
        let mut rank = 0;
        let mut files = 0;
        for (file, text) in sources {
            files += 1;
            let parsed = PolicySet::from_str(&text).map_err(|e| file_error(&file, e))?;
            if parsed.templates().next().is_some() {
                return Err(file_error(&file, "templates are not supported in a pack"));
            }
            // `PolicySet::from_str` names policies by position; the `@id`
            // annotation gives each rule a name that survives reordering.
            let mut policies: Vec<&Policy> = parsed.policies().collect();
            policies.sort_by_key(|p| {
                p.id()
                    .to_string()
                    .trim_start_matches("policy")
                    .parse::<usize>()
                    .unwrap_or(usize::MAX)
            });
            for policy in policies {
                let Some(id) = policy.annotation("id") else {
                    return Err(file_error(
                        &file,
                        format!("a policy has no `@id` annotation:\n{policy}"),
                    ));
                };
                let named = policy.new_id(PolicyId::new(id));
                let level = named.annotation("level").unwrap_or_default();
                let target = if level == "base" {
                    match named.action_constraint() {
                        ActionConstraint::Eq(uid) if action_name(&uid) == "accept" => {
                            &mut order_rules
                        }
                        ActionConstraint::Eq(uid) if action_name(&uid) == "disclose" => {
                            &mut pair_rules
                        }
                        _ => {
                            return Err(file_error(
                                &file,
                                format!("`{id}`: a base policy names one action"),
                            ));
                        }
                    }
                } else {
                    let rule = rule_of(&named, id, rank).map_err(|m| file_error(&file, m))?;
                    rank += 1;
                    let wanted = rule.level.action();
                    match named.action_constraint() {
                        ActionConstraint::Eq(uid) if action_name(&uid) == wanted => {}
                        _ => {
                            return Err(file_error(
                                &file,
                                format!(
                                    "`{id}`: a `{level}` rule must apply to `action == Writ::Action::\"{wanted}\"`"
                                ),
                            ));
                        }
                    }
                    if named.effect() != cedar_policy::Effect::Forbid {
                        return Err(file_error(
                            &file,
                            format!("`{id}`: rules are `forbid` policies; only `base` ones permit"),
                        ));
                    }
                    rules.insert(named.id().clone(), rule.clone());
                    if rule.level.action() == "accept" {
                        &mut order_rules
                    } else {
                        &mut pair_rules
                    }
                };
                all.add(named.clone())
                    .map_err(|e| file_error(&file, format!("`{id}`: {e}")))?;
                target
                    .add(named)
                    .map_err(|e| file_error(&file, format!("`{id}`: {e}")))?;
            }
        }
        if files == 0 {
            return Err(PackError::Invalid("the pack has no `.cedar` files".into()));
        }

        let validation = Validator::new(schema).validate(&all, ValidationMode::Strict);
        if !validation.validation_passed() {
            let errors: Vec<String> = validation
                .validation_errors()
                .map(|e| format!("  {e}"))
                .collect();
            return Err(PackError::Invalid(format!(
                "the pack does not validate against the schema:\n{}",
                errors.join("\n")
            )));
        }

        let contexts = crate::facts::Contexts::build(&manifest.parameters)
            .map_err(|e| PackError::Invalid(format!("the request contexts: {e}")))?;
        let slices = crate::slice::Slices::build(&order_rules, &pair_rules);
        let pack = Pack {
            contexts,
            slices,
            id: manifest.id,
            version: manifest.version,
            params: manifest.parameters,
            order_rules: RuleSet::new(order_rules.policies()).map_err(PackError::Invalid)?,
            pair_rules: RuleSet::new(pair_rules.policies()).map_err(PackError::Invalid)?,
            cedar_authorizer: false,
            rules,
        };
        crate::conformance::check(&pack).map_err(PackError::Invalid)?;
        Ok(pack)
    }

    /// The rules of the pack in pack order.
    pub fn rules(&self) -> Vec<&Rule> {
        let mut rules: Vec<&Rule> = self.rules.values().collect();
        rules.sort_by_key(|r| r.rank);
        rules
    }

    /// The same pack evaluating every request against its whole sets, as
    /// if it were not sliced: decisions must not change (the slicing's
    /// soundness test compares both).
    #[doc(hidden)]
    pub fn without_slicing(mut self) -> Self {
        self.slices = crate::slice::Slices::default();
        self
    }

    /// The same pack evaluating every request through Cedar's `Authorizer`
    /// instead of its compiled sets: decisions must not change (the tests
    /// compare both).
    #[doc(hidden)]
    pub fn with_cedar_authorizer(mut self) -> Self {
        self.cedar_authorizer = true;
        self
    }

    pub(crate) fn rule(&self, id: &PolicyId) -> Option<&Rule> {
        self.rules.get(id)
    }
}

fn action_name(uid: &EntityUid) -> String {
    if uid.type_name().to_string() == "Writ::Action" {
        uid.id().unescaped().to_owned()
    } else {
        String::new()
    }
}

fn rule_of(policy: &Policy, id: &str, rank: usize) -> Result<Rule, String> {
    let get = |key: &str| {
        policy
            .annotation(key)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("`{id}`: missing annotation `@{key}`"))
    };
    let level_text = get("level")?;
    let level = Level::parse(&level_text).ok_or_else(|| {
        format!(
            "`{id}`: unknown level `{level_text}` (expected refusal, trigger, info, deny or review)"
        )
    })?;
    let code = get("code")?;
    if !code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
    {
        return Err(format!("`{id}`: reason code `{code}` is not snake_case"));
    }
    Ok(Rule {
        id: id.to_owned(),
        code,
        level,
        message: get("message")?,
        citation: get("citation")?,
        rank,
    })
}

/// The texts of the default pack, `(file name, Cedar text)` in load order,
/// and its `policy.toml`: for tools that analyse the pack's policies
/// themselves (the proofs of `writ-prove`).
pub fn embedded_sources() -> (&'static [(&'static str, &'static str)], &'static str) {
    (EMBEDDED, EMBEDDED_MANIFEST)
}
