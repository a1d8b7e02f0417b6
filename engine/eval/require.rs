//! The `require` shape: manifest paths that must be present and non-empty (a list must
//! have items, a text must not be blank). The finding's value is the number missing.

use serde_json::Value;

use super::finding::{Evidence, Status};
use super::Outcome;
use crate::rules::manifest_path::ManifestPath;

pub fn evaluate(paths: &[ManifestPath], manifest: &Value) -> Outcome {
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| !p.present(manifest))
        .map(|p| p.text.clone())
        .collect();
    let mut o = Outcome::new(if missing.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    });
    o.value = Some(missing.len() as f64);
    o.threshold = Some(0.0);
    o.keys = Some(super::keys::digest_strings(
        missing.iter().map(String::as_str),
    ));
    if !missing.is_empty() {
        o.evidence = Some(Evidence {
            missing,
            ..Evidence::default()
        });
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_what_is_missing() {
        let m = json!({"definitions": {"mql": "x", "sql": "  "}});
        let paths: Vec<ManifestPath> = ["definitions.mql", "definitions.sql"]
            .iter()
            .map(|p| ManifestPath::parse(p).unwrap())
            .collect();
        let o = evaluate(&paths, &m);
        assert_eq!(o.status, Some(Status::Fail));
        assert_eq!(o.value, Some(1.0));
        assert_eq!(o.evidence.unwrap().missing, vec!["definitions.sql"]);
        let o = evaluate(&paths[..1], &m);
        assert_eq!(o.status, Some(Status::Pass));
    }
}
