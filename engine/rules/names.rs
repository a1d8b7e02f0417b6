//! The names a rule may refer to, looked up in one place so the loader's "unknown name,
//! did you mean …" checks follow the registries they come from: metric names from the
//! metrics registry (`crate::metrics::registry`), manifest keys from the manifest schema.

use crate::metrics::registry;

/// Whether `name` is a metric a `check` expression may read.
pub fn known_metric(name: &str) -> bool {
    registry::is_metric(name)
}

/// Every metric name, for suggestions and docs.
pub fn metric_names() -> impl Iterator<Item = &'static str> {
    registry::names()
}

/// The nearest metric name to a typo.
pub fn suggest_metric(name: &str) -> Option<&'static str> {
    registry::suggest(name)
}

/// The top-level keys of the manifest (from its schema), for `require` paths.
pub fn manifest_keys() -> Vec<String> {
    crate::schema::MANIFEST
        .json()
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_unique_identifiers() {
        let mut names: Vec<_> = metric_names().collect();
        for n in &names {
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{n} must be a Rhai identifier"
            );
        }
        let len = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), len);
        assert!(known_metric("ltv_cac") && !known_metric("ltv_cak"));
        assert_eq!(suggest_metric("ltv_cak"), Some("ltv_cac"));
    }

    #[test]
    fn manifest_keys_come_from_the_schema() {
        let keys = manifest_keys();
        assert!(keys.iter().any(|k| k == "definitions"));
        assert!(keys.iter().any(|k| k == "systems"));
    }
}
