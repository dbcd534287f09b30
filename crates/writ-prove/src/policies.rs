//! A pack's policies, read again from its texts with their levels, so that
//! queries can be built from chosen rules.

use std::path::Path;
use std::str::FromStr;

use cedar_policy::{ActionConstraint, Policy, PolicyId, PolicySet, Schema};
use writ_policy::Pack;

use crate::ProveError;

/// One policy of a pack and what its annotations say.
#[derive(Clone, Debug)]
pub(crate) struct PackPolicy {
    /// The `@id` annotation.
    pub id: String,
    /// The `@level` annotation (`base` for the permits).
    pub level: String,
    /// The action it applies to (`accept` or `disclose`).
    pub action: String,
    pub policy: Policy,
}

/// A validated pack and its policies.
#[derive(Clone, Debug)]
pub struct PackPolicies {
    pub id: String,
    pub version: String,
    pub(crate) policies: Vec<PackPolicy>,
    pub(crate) schema: Schema,
}

impl PackPolicies {
    /// The default pack built into writ.
    pub fn embedded() -> Result<Self, ProveError> {
        let pack = Pack::embedded()?;
        let (files, _manifest) = writ_policy::pack::embedded_sources();
        Self::from_texts(
            &pack,
            files
                .iter()
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned())),
        )
    }

    /// A pack folder: it is first loaded as the engine loads it (so it is
    /// valid), then its `*.cedar` files are read again in the same order.
    pub fn load_dir(dir: &Path) -> Result<Self, ProveError> {
        let pack = Pack::load_dir(dir)?;
        let mut files = Vec::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| ProveError::Policies(format!("{}: {e}", dir.display())))?;
        for entry in entries {
            let path = entry
                .map_err(|e| ProveError::Policies(format!("{}: {e}", dir.display())))?
                .path();
            if path.extension().is_some_and(|e| e == "cedar") {
                files.push(path);
            }
        }
        files.sort();
        let mut texts = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ProveError::Policies(format!("{}: {e}", path.display())))?;
            texts.push((path.display().to_string(), text));
        }
        Self::from_texts(&pack, texts)
    }

    fn from_texts(
        pack: &Pack,
        texts: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ProveError> {
        let (schema, _) = Schema::from_cedarschema_str(writ_policy::pack::SCHEMA)
            .map_err(|e| ProveError::Policies(format!("built-in schema: {e}")))?;
        let mut policies = Vec::new();
        for (file, text) in texts {
            let set = PolicySet::from_str(&text)
                .map_err(|e| ProveError::Policies(format!("{file}: {e}")))?;
            for policy in set.policies() {
                let annotation = |key: &str| policy.annotation(key).unwrap_or_default().to_owned();
                let id = annotation("id");
                let action = match policy.action_constraint() {
                    ActionConstraint::Eq(uid) => uid.id().unescaped().to_owned(),
                    _ => String::new(),
                };
                policies.push(PackPolicy {
                    policy: policy.new_id(PolicyId::new(format!("pack:{id}"))),
                    id,
                    level: annotation("level"),
                    action,
                });
            }
        }
        Ok(PackPolicies {
            id: pack.id.clone(),
            version: pack.version.clone(),
            policies,
            schema,
        })
    }

    /// The policies of one action whose level is `base` or one of `levels`.
    pub(crate) fn select<'a>(
        &'a self,
        action: &'a str,
        levels: &'a [&'a str],
    ) -> impl Iterator<Item = &'a PackPolicy> + 'a {
        self.policies.iter().filter(move |p| {
            p.action == action && (p.level == "base" || levels.contains(&p.level.as_str()))
        })
    }
}
