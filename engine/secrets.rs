//! Passwords written into configuration files are refused. A database source names the
//! *environment variable* that holds its URL (`url_env: ACME_PG_URL`); a manifest,
//! `marqa.yaml` or import mapping that spells a password out (a `password:` key, a
//! `url:` key beside a database source, or any `scheme://user:secret@host` value) is an
//! error that says which variable to use instead, so secrets stay out of repositories.

use std::path::Path;

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::yaml::{pointer_segment, Document};

/// Keys whose value is a password whatever it looks like.
const PASSWORD_KEYS: [&str; 5] = ["password", "passwd", "pwd", "pass", "secret"];

/// The first written secret in `doc`, as an `E-SECRET` diagnostic pointing at it.
/// `what` names the file kind in the message ("snapshot.yaml", "marqa.yaml", "the mapping").
pub fn find(doc: &Document, path: &Path, what: &str) -> Option<Diagnostic> {
    let mut found = None;
    walk(&doc.value, String::new(), &mut found);
    let (pointer, why) = found?;
    let var = suggested_variable(&doc.value, &pointer);
    Some(
        Diagnostic::new(
            "E-SECRET",
            format!("{what} writes a password out ({why} at {pointer}); passwords never go into configuration files"),
        )
        .at(doc.location(path, &pointer))
        .help(format!(
            "put the connection URL into an environment variable and name the variable instead, e.g. `url_env: {var}` and `export {var}='postgresql://user:password@host/db'` (docs/sources.md)"
        )),
    )
}

fn walk(v: &Value, pointer: String, found: &mut Option<(String, &'static str)>) {
    if found.is_some() {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{pointer}/{}", pointer_segment(k));
                let key = k.to_ascii_lowercase();
                let filled = !matches!(child, Value::Null)
                    && !matches!(child, Value::String(s) if s.is_empty());
                if filled && PASSWORD_KEYS.contains(&key.as_str()) {
                    *found = Some((p, "a password key"));
                    return;
                }
                if filled && key == "url" && pointer.starts_with("/tables/") {
                    *found = Some((p, "a connection URL"));
                    return;
                }
                walk(child, p, found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{pointer}/{i}"), found);
            }
        }
        Value::String(s) if url_with_password(s) => {
            *found = Some((pointer, "a URL with a password"));
        }
        _ => {}
    }
}

/// `scheme://user:password@host…` (a user without a password is no secret).
pub fn url_with_password(s: &str) -> bool {
    let Some((scheme, rest)) = s.trim().split_once("://") else {
        return false;
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo
            .split_once(':')
            .is_some_and(|(_, pw)| !pw.is_empty()),
        None => false,
    }
}

/// A variable name to suggest: `LEADS_PG_URL` for `/tables/leads/…` of a postgres source.
fn suggested_variable(root: &Value, pointer: &str) -> String {
    let mut parts = pointer.split('/').skip(1);
    if parts.next() == Some("tables") {
        if let Some(table) = parts.next() {
            let kind = root
                .pointer(&format!("/tables/{table}/source"))
                .and_then(Value::as_str)
                .unwrap_or("postgres");
            let short = if kind == "clickhouse" { "CH" } else { "PG" };
            return format!("{}_{short}_URL", table.to_ascii_uppercase());
        }
    }
    "MARQA_DB_URL".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        crate::yaml::parse_single(text, Path::new("x.yaml")).unwrap()
    }

    #[test]
    fn urls_with_passwords_are_told_apart() {
        assert!(url_with_password("postgresql://marqa:s3cret@db:5432/crm"));
        assert!(url_with_password("http://u:p@127.0.0.1:8123/"));
        assert!(!url_with_password("postgresql://marqa@db/crm"));
        assert!(!url_with_password("https://example.com/a@b"));
        assert!(!url_with_password("just text: with @ and ://"));
    }

    #[test]
    fn a_written_password_points_at_its_line_and_names_a_variable() {
        let d = doc("tables:\n  leads:\n    source: postgres\n    url: postgresql://a:b@h/db\n");
        let e = find(&d, Path::new("snapshot.yaml"), "snapshot.yaml").unwrap();
        assert_eq!(e.code, "E-SECRET");
        assert_eq!(e.location.as_ref().unwrap().line, Some(4));
        assert!(e.help.unwrap().contains("url_env: LEADS_PG_URL"));
        let d = doc("fleet:\n  db: {password: hunter2}\n");
        let e = find(&d, Path::new("marqa.yaml"), "marqa.yaml").unwrap();
        assert_eq!(e.location.as_ref().unwrap().line, Some(2));
        let d = doc("notes: [\"see clickhouse://x:y@h:8123\"]\n");
        assert!(find(&d, Path::new("m.yaml"), "the mapping").is_none());
        let d = doc("notes: [\"clickhouse://x:y@h:8123\"]\n");
        assert!(find(&d, Path::new("m.yaml"), "the mapping").is_some());
        assert!(find(&doc("a: {password: ''}\nb: x\n"), Path::new("m"), "m").is_none());
    }
}
