//! `--format junit`: JUnit XML for CI test tabs. One `<testsuite>` per audit step, one
//! `<testcase>` per rule and group (`name="unit.ltv-cac [vk_ads]"`, `classname="marqa.<step>"`,
//! `file` and `line` of the rule). A failed check is a `<failure>` with the message and the
//! evidence as text; a rule that broke is an `<error>`; a skipped one is `<skipped>` with
//! the reason. Times are 0: the report must be byte-identical run to run.

use std::fmt::Write as _;

use crate::eval::finding::{BaselineChange, BaselineState, Finding, Status};
use crate::rules::model::Step;

use super::context::relative_file;
use super::Audit;

/// Escape text for XML content and attribute values; characters XML 1.0 forbids become
/// U+FFFD.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Element text: like `xml`, but line breaks stay line breaks.
fn text(s: &str) -> String {
    xml(s).replace("&#10;", "\n")
}

/// The failure body: message, counts, the sample rows with their file and line, and the
/// recommendation.
fn failure_body(a: &Audit, f: &Finding) -> String {
    let w = |key: &str| super::i18n::label(a.locale, key);
    let mut out = String::new();
    if let Some(m) = &f.message {
        let _ = writeln!(out, "{m}");
    }
    if let Some(e) = &f.evidence {
        if !e.counts.is_empty() {
            let counts: Vec<String> = e.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(out, "{}: {}", w("counts"), counts.join(", "));
        }
        if !e.missing.is_empty() {
            let _ = writeln!(out, "{}: {}", w("missing_lc"), e.missing.join(", "));
        }
        if !e.rows.is_empty() {
            let file = e
                .file
                .as_deref()
                .map(|p| relative_file(a.snapshot, p))
                .unwrap_or_default();
            let _ = writeln!(out, "{}", e.columns.join(" | "));
            for r in &e.rows {
                let values: Vec<&str> = r
                    .values
                    .iter()
                    .map(|v| v.as_deref().unwrap_or("—"))
                    .collect();
                let own = r.file.as_deref().map(|p| relative_file(a.snapshot, p));
                match r.line {
                    Some(l) => {
                        let file = own.as_deref().unwrap_or(&file);
                        let _ = writeln!(out, "{file}:{l}  {}", values.join(" | "));
                    }
                    None => {
                        let _ = writeln!(out, "{}", values.join(" | "));
                    }
                }
            }
        }
    }
    if let Some(t) = f.recommendation.as_ref().and_then(|r| r.text.as_ref()) {
        let _ = writeln!(out, "{}: {t}", w("recommendation_lc"));
    }
    let _ = write!(
        out,
        "{}: {}:{}",
        w("rule_lc"),
        f.origin.file.to_string_lossy(),
        f.origin.line
    );
    out
}

/// How a finding shows in JUnit: against a baseline, a problem already in it (unchanged,
/// or changed for the better) is skipped (it does not fail the run), so CI test tabs show
/// only new failures and ones that got worse.
fn shown(f: &Finding) -> Status {
    let better = f.baseline_change.as_ref().is_some_and(|c| !c.worse);
    match (f.status, f.baseline) {
        (Status::Fail | Status::Error, Some(BaselineState::Unchanged)) => Status::Skipped,
        (Status::Fail | Status::Error, Some(BaselineState::Changed)) if better => Status::Skipped,
        (s, _) => s,
    }
}

/// `<properties>` of a test case: its baseline state, when compared with one (and for a
/// changed problem, what changed).
fn case_properties(state: Option<BaselineState>, change: Option<&BaselineChange>) -> String {
    let Some(b) = state else {
        return String::new();
    };
    let mut out = format!(
        "\n      <properties>\n        <property name=\"baseline\" value=\"{}\"/>",
        b.as_str()
    );
    if let Some(c) = change {
        let _ = write!(
            out,
            "\n        <property name=\"baseline_change\" value=\"{}\"/>",
            xml(&c.describe())
        );
    }
    out.push_str("\n      </properties>");
    out
}

pub fn render(a: &Audit) -> String {
    let all = a.findings;
    let fixed: &[crate::baseline::Entry] = a.baseline.map_or(&[], |c| &c.fixed);
    // A suppressed failure reads as skipped (with its reason): it does not fail the run;
    // against a baseline, so does a known one.
    let status = |f: &Finding| {
        if f.suppressed.is_some() {
            Status::Skipped
        } else {
            shown(f)
        }
    };
    let count = |fs: &[&Finding], st: Status| fs.iter().filter(|f| status(f) == st).count();
    let refs: Vec<&Finding> = all.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<testsuites name="marqa {}" tests="{}" failures="{}" errors="{}" skipped="{}" time="0">"#,
        xml(&a.pack.name),
        all.len() + fixed.len(),
        count(&refs, Status::Fail),
        count(&refs, Status::Error),
        count(&refs, Status::Skipped),
    );
    for step in Step::ALL {
        let fs: Vec<&Finding> = all.iter().filter(|f| f.step == step).collect();
        let gone: Vec<&crate::baseline::Entry> =
            fixed.iter().filter(|e| e.step == step.as_str()).collect();
        if fs.is_empty() && gone.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="0">"#,
            step.as_str(),
            fs.len() + gone.len(),
            count(&fs, Status::Fail),
            count(&fs, Status::Error),
            count(&fs, Status::Skipped),
        );
        let m = &a.snapshot.manifest;
        let _ = writeln!(out, "    <properties>");
        let mut props: Vec<(&str, String)> = vec![
            ("company", m.company.clone()),
            ("as_of", m.as_of.clone()),
            ("period", format!("{} .. {}", m.period.from, m.period.to)),
            ("pack", a.pack.name.clone()),
            ("marqa", env!("CARGO_PKG_VERSION").to_string()),
        ];
        if let Some(c) = a.baseline {
            props.push(("baseline", c.file.clone()));
        }
        for (k, v) in props {
            let _ = writeln!(out, r#"      <property name="{k}" value="{}"/>"#, xml(&v));
        }
        if !a.suppressions.is_empty() {
            let _ = writeln!(
                out,
                r#"      <property name="suppressed" value="{}"/>"#,
                a.suppressions.suppressed
            );
            for e in &a.suppressions.entries {
                let _ = writeln!(
                    out,
                    r#"      <property name="suppression" value="{}"/>"#,
                    xml(&super::i18n::suppression(a.locale, e))
                );
            }
        }
        let _ = writeln!(out, "    </properties>");
        for f in fs {
            let name = match &f.group {
                Some(g) => format!("{} [{g}]", f.rule),
                None => f.rule.clone(),
            };
            let _ = write!(
                out,
                r#"    <testcase name="{}" classname="marqa.{}" file="{}" line="{}" time="0""#,
                xml(&name),
                step.as_str(),
                xml(&f.origin.file.to_string_lossy()),
                f.origin.line
            );
            let props = case_properties(f.baseline, f.baseline_change.as_deref());
            let message = xml(f.message.as_deref().unwrap_or(&f.title));
            if let Some(sup) = &f.suppressed {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(&format!(
                        "{}: {}",
                        super::i18n::label(a.locale, "suppressed_lc"),
                        super::i18n::suppressed(a.locale, sup)
                    ))
                );
                continue;
            }
            match shown(f) {
                Status::Pass => out.push_str("/>\n"),
                Status::Fail => {
                    let _ = writeln!(
                        out,
                        ">{props}\n      <failure message=\"{message}\" type=\"{}\">{}</failure>\n    </testcase>",
                        f.severity.as_str(),
                        text(&failure_body(a, f))
                    );
                }
                Status::Error => {
                    let _ = writeln!(
                        out,
                        ">{props}\n      <error message=\"{message}\" type=\"rule-error\">{}</error>\n    </testcase>",
                        text(f.message.as_deref().unwrap_or(""))
                    );
                }
                Status::Skipped => {
                    let message = match (f.baseline, f.baseline_change.as_ref()) {
                        (Some(BaselineState::Unchanged), _) => xml(&format!(
                            "{}: {}",
                            super::i18n::label(a.locale, "in_baseline"),
                            f.message.as_deref().unwrap_or(&f.title)
                        )),
                        (Some(BaselineState::Changed), Some(c)) => xml(&format!(
                            "{} ({}): {}",
                            super::i18n::label(a.locale, "in_baseline_better"),
                            super::context::change_text(a, f, c),
                            f.message.as_deref().unwrap_or(&f.title)
                        )),
                        _ => message,
                    };
                    let _ = writeln!(
                        out,
                        ">{props}\n      <skipped message=\"{message}\"/>\n    </testcase>"
                    );
                }
            }
        }
        for e in gone {
            let name = match &e.group {
                Some(g) => format!("{} [{g}]", e.rule),
                None => e.rule.clone(),
            };
            let _ = writeln!(
                out,
                r#"    <testcase name="{}" classname="marqa.{}" time="0">{}
    </testcase>"#,
                xml(&name),
                step.as_str(),
                case_properties(Some(BaselineState::Fixed), None)
            );
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_forbidden_characters() {
        assert_eq!(
            xml("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(xml("a\u{0}b\nc"), "a\u{FFFD}b&#10;c");
        assert_eq!(text("a\nb<"), "a\nb&lt;");
    }
}
