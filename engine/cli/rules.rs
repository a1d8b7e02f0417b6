//! `marqa rules list | explain | test`: what a pack holds (with where each rule came from
//! and what overrode it), one rule documented, and a pack's test cases run like a test
//! runner.

use super::stdout::{out, outln};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::check::{ConfigArgs, EvalArgs, Locale};
use super::CmdResult;
use crate::config::{Flags, Resolved};
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::eval::cases;
use crate::rules::model::{Applied, Rule, Shape};
use crate::rules::rows::{Condition, ListSource, Num, Than};
use crate::rules::source::PackSource;
use crate::rules::{self, ResolvedPack};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List the rules of the resolved pack, with their origin and overrides.
    ///
    /// The pack is the one `marqa check` would use in the current folder: `--pack`, else
    /// `packs` of the marqa.yaml here or in a parent (its overrides applied), else
    /// builtin:b2b-core.
    List(ListArgs),
    /// Document one rule: title, step, rationale, params, the check, an example failure.
    ///
    /// The pack is found as for `rules list` (`--pack`, else marqa.yaml, else
    /// builtin:b2b-core). The example failure renders the rule's message with illustrative
    /// values; when none can be found without data, it says why.
    Explain(ExplainArgs),
    /// Run a pack's test cases (`tests/<case>/` with expected.yaml); exit 1 on any failure.
    Test(TestArgs),
}

/// Which pack `rules list` and `rules explain` show: the one `marqa check` would use here.
#[derive(clap::Args, Debug)]
pub struct PackArgs {
    /// Rule pack: `builtin:NAME`, a pack folder, or a rules file; repeat to combine (later
    /// packs win). Default: `packs` of the marqa.yaml in the current folder or a parent
    /// (with its overrides), as `marqa check` there would use; else builtin:b2b-core.
    #[arg(long = "pack", value_name = "PACK")]
    pub packs: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub pack: PackArgs,
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Json,
    /// A reference page: every rule's id, step, severity, title, check, params (docs/b2b-core.md).
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The rule id (`unit.ltv-cac`).
    pub id: String,
    #[command(flatten)]
    pub pack: PackArgs,
    /// Language of the texts [default: `locale` in marqa.yaml, else the pack's, else en].
    #[arg(long, value_enum)]
    pub locale: Option<Locale>,
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// The pack folder whose `tests/` to run.
    pub pack: PathBuf,
    #[command(flatten)]
    pub eval: EvalArgs,
}

pub fn run(cmd: Command) -> CmdResult {
    match cmd {
        Command::List(a) => list(a),
        Command::Explain(a) => explain(a),
        Command::Test(a) => test(a),
    }
}

/// The pack and the settings `marqa check` would use in the current folder: the packs of
/// `--pack`, else of the marqa.yaml found here or above (or `--config FILE`), with that
/// config's overrides applied; builtin:b2b-core when nothing names one.
fn resolve(a: &PackArgs, locale: Option<Locale>) -> Result<(ResolvedPack, Resolved), Diagnostics> {
    let flags = Flags {
        packs: a.packs.clone(),
        locale: locale.map(|l| l.as_str().to_string()),
        config: a.config.config.clone(),
        no_config: a.config.no_config,
        ..Flags::default()
    };
    let cwd = Path::new(".");
    let cfg = crate::config::resolve(cwd, &flags, cwd)?;
    let pack = crate::audit::resolve_pack(&cfg)?;
    Ok((pack, cfg))
}

#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    step: &'a str,
    severity: &'a str,
    shape: &'a str,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    per: Option<&'a str>,
    origin: &'a crate::rules::model::Origin,
    overridden: &'a [Applied],
}

fn list(a: ListArgs) -> CmdResult {
    let (pack, cfg) = resolve(&a.pack, None)?;
    match a.format {
        ListFormat::Json => {
            let rows: Vec<Listed> = pack
                .rules
                .iter()
                .map(|r| Listed {
                    id: &r.id,
                    step: r.step.as_str(),
                    severity: r.severity.as_str(),
                    shape: r.shape.kind(),
                    enabled: r.enabled,
                    per: r.per.map(|b| b.as_str()),
                    origin: &r.origin,
                    overridden: &r.overridden,
                })
                .collect();
            let doc = serde_json::json!({"pack": pack.name, "packs": pack.packs, "rules": rows});
            outln!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("serializes")
            );
        }
        ListFormat::Text => out!("{}", render_list(&pack)),
        ListFormat::Markdown => out!(
            "{}",
            super::rules_doc::render_markdown(&pack, &cfg.packs.value)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The resolved-pack view: every rule, its origin, and the overrides applied to it.
pub fn render_list(pack: &ResolvedPack) -> String {
    let mut out = String::new();
    let (rules, packs) = (pack.rules.len(), pack.packs.len());
    let word = |n: usize, forms: [&'static str; 2]| crate::plural::form(n as f64, &forms);
    let _ = writeln!(
        out,
        "pack {}: {rules} {} from {packs} {}",
        pack.name,
        word(rules, ["rule", "rules"]).unwrap_or("rules"),
        word(packs, ["pack", "packs"]).unwrap_or("packs")
    );
    for p in &pack.packs {
        let ext = if p.extends.is_empty() {
            String::new()
        } else {
            format!(", extends {}", p.extends.join(", "))
        };
        let _ = writeln!(out, "  {} ({}){ext}", p.name, p.source);
    }
    let w = pack
        .rules
        .iter()
        .map(|r| r.id.chars().count())
        .max()
        .unwrap_or(4);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<w$}  {:<14} {:<8} {:<7} {:<8} origin",
        "rule", "step", "severity", "shape", "state"
    );
    for r in &pack.rules {
        let _ = writeln!(
            out,
            "{:<w$}  {:<14} {:<8} {:<7} {:<8} {} {}:{}",
            r.id,
            r.step.as_str(),
            r.severity.as_str(),
            r.shape.kind(),
            if r.enabled { "on" } else { "off" },
            r.origin.pack,
            r.origin.file.display(),
            r.origin.line
        );
        for o in &r.overridden {
            let _ = writeln!(
                out,
                "{:<w$}    overridden by {} ({}:{}): {}",
                "",
                o.pack,
                o.file.display(),
                o.line,
                o.changes.join(", ")
            );
        }
    }
    out
}

fn explain(a: ExplainArgs) -> CmdResult {
    let (pack, cfg) = resolve(&a.pack, a.locale)?;
    let Some(rule) = pack.rule(&a.id) else {
        let d = Diagnostic::new(
            "E-RULE-UNKNOWN",
            format!("no rule `{}` in pack {}", a.id, pack.name),
        );
        return Err(
            match did_you_mean(&a.id, pack.rules.iter().map(|r| r.id.as_str())) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("`marqa rules list` shows the rule ids"),
            }
            .into(),
        );
    };
    let locale = cfg
        .locale
        .value
        .as_deref()
        .or(pack.locale.as_deref())
        .unwrap_or("en");
    out!("{}", render_explain(rule, locale));
    Ok(ExitCode::SUCCESS)
}

/// One rule documented from its own fields (the same text `rules explain` and the docs use).
pub fn render_explain(rule: &Rule, locale: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {}",
        rule.id,
        crate::eval::example::title(rule, locale)
    );
    let _ = writeln!(
        out,
        "step {}, severity {}, {} rule{}{}",
        rule.step,
        rule.severity,
        rule.shape.kind(),
        rule.per
            .map(|b| format!(", per {}", b.as_str()))
            .unwrap_or_default(),
        if rule.enabled { "" } else { " (disabled)" }
    );
    let _ = writeln!(
        out,
        "defined in {} ({}:{})",
        rule.origin.pack,
        rule.origin.file.display(),
        rule.origin.line
    );
    for o in &rule.overridden {
        let _ = writeln!(
            out,
            "overridden by {} ({}:{}): {}",
            o.pack,
            o.file.display(),
            o.line,
            o.changes.join(", ")
        );
    }
    if let Some(d) = &rule.docs {
        let _ = writeln!(out, "\n{}", d.get(locale).trim_end());
    }
    if !rule.params.is_empty() {
        let _ = writeln!(out, "\nparams:");
        for (k, v) in &rule.params {
            let _ = writeln!(out, "  {k}: {v}");
        }
    }
    let needs = rule.required_tables();
    if !needs.is_empty() {
        let names: Vec<&str> = needs.iter().map(|t| t.as_str()).collect();
        let _ = writeln!(
            out,
            "\nneeds tables: {} (skipped without them)",
            names.join(", ")
        );
    }
    let _ = writeln!(out, "\ncheck:");
    match &rule.shape {
        Shape::Check(e) => {
            let _ = writeln!(out, "  {}", e.source);
            if let Some(v) = &rule.value {
                let _ = writeln!(out, "  value: {}", v.source);
            }
            if let Some(t) = &rule.threshold {
                let _ = writeln!(out, "  threshold: {}", t.source);
            }
        }
        Shape::Rows(r) => {
            let _ = writeln!(
                out,
                "  rows of {}{}",
                r.table,
                r.period_column
                    .as_deref()
                    .map(|c| format!(" with {c} in the audit period"))
                    .unwrap_or_default()
            );
            for f in &r.filters {
                let vals: Vec<String> = f.values.iter().map(|v| v.to_string()).collect();
                let _ = writeln!(out, "  where {} is {}", f.column, vals.join(" or "));
            }
            for c in &r.conditions {
                let _ = writeln!(out, "  offending when {}", describe_condition(c));
            }
            if let Some(p) = &r.predicate {
                let _ = writeln!(out, "  and when `{}`", p.source);
            }
            let limit = match (rule.params.get("max_share"), rule.params.get("max_count")) {
                (Some(s), Some(c)) => format!("more than {c} rows or a share above {s}"),
                (Some(s), None) => format!("a share above {s} of the rows"),
                (None, Some(c)) => format!("more than {c} rows"),
                (None, None) => "any row".to_string(),
            };
            let _ = writeln!(out, "  fails on {limit}");
        }
        Shape::Require(paths) => {
            for p in paths {
                let _ = writeln!(out, "  manifest `{p}` present and non-empty");
            }
        }
        Shape::Script(s) => {
            let _ = writeln!(out, "  script {} ({}):", s.path, s.file.display());
            for l in s.source.lines() {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    match crate::eval::example::failure(rule, locale) {
        Ok(text) => {
            let _ = writeln!(
                out,
                "\nexample failure (illustrative values):\n  {}",
                text.trim_end()
            );
        }
        Err(why) => {
            let _ = writeln!(out, "\nno example failure: {why}");
            if let Some(m) = &rule.message {
                let _ = writeln!(
                    out,
                    "\nfailure message (template):\n  {}",
                    m.get(locale).trim_end()
                );
            }
        }
    }
    if let Some(r) = &rule.recommendation {
        let _ = writeln!(
            out,
            "\nrecommendation: {}",
            r.text.as_ref().map(|t| t.get(locale)).unwrap_or("")
        );
        let _ = writeln!(
            out,
            "  owner {}, effort {}, impact {}, priority {}",
            r.owner.as_deref().unwrap_or("-"),
            r.effort
                .map(|l| format!("{l:?}").to_lowercase())
                .unwrap_or("-".into()),
            r.impact
                .map(|l| format!("{l:?}").to_lowercase())
                .unwrap_or("-".into()),
            r.priority().as_str()
        );
    }
    out
}

fn num(n: &Num) -> String {
    match n {
        Num::Lit(x) => crate::eval::render::fmt_num(*x),
        Num::Param(p) => format!("params.{p}"),
        Num::Manifest(m) => format!("manifest.{m}"),
    }
}

pub(super) fn describe_condition(c: &Condition) -> String {
    match c {
        Condition::Missing {
            columns,
            placeholders,
        } => format!(
            "{} empty{}",
            columns.join(" and "),
            if *placeholders {
                " (or a placeholder like `(not set)`)"
            } else {
                ""
            }
        ),
        Condition::Duplicate {
            columns,
            window_days,
            ..
        } => format!(
            "{} repeats an earlier row's{}",
            columns.join(" or "),
            window_days
                .as_ref()
                .map(|w| format!(" within {} days", num(w)))
                .unwrap_or_default()
        ),
        Condition::NotIn {
            column,
            list,
            ignore_case,
        } => format!(
            "{column} is not in {}{}",
            match list {
                ListSource::Values(v) => format!("[{}]", v.join(", ")),
                ListSource::Manifest(m) => format!("manifest `{m}`"),
            },
            if *ignore_case { " (ignoring case)" } else { "" }
        ),
        Condition::Matches {
            column,
            regex,
            negate,
        } => {
            format!(
                "{column} {} /{}/",
                if *negate { "does not match" } else { "matches" },
                regex.as_str()
            )
        }
        Condition::Range { column, min, max } => format!(
            "{column} is outside [{}, {}]",
            min.as_ref().map(num).unwrap_or("-∞".into()),
            max.as_ref().map(num).unwrap_or("+∞".into())
        ),
        Condition::Compare {
            column,
            after,
            than,
            plus_days,
            plus_minutes,
        } => {
            let mut t = match than {
                Than::AsOf => "as_of".to_string(),
                Than::PeriodStart => "the period start".to_string(),
                Than::PeriodEnd => "the period end".to_string(),
                Than::Column(c) => c.clone(),
            };
            if let Some(d) = plus_days {
                t.push_str(&format!(" + {} days", num(d)));
            }
            if let Some(m) = plus_minutes {
                t.push_str(&format!(" + {} minutes", num(m)));
            }
            format!(
                "{column} is {} {t}",
                if *after { "after" } else { "before" }
            )
        }
        Condition::References { column, table, to } => format!("{column} names no {table}.{to}"),
        Condition::CountedBy { metric } => format!("the row is counted by the metric `{metric}`"),
    }
}

fn test(a: TestArgs) -> CmdResult {
    let root = match PackSource::open(&a.pack.to_string_lossy(), &PathBuf::from(".")) {
        Ok(PackSource::Dir(p)) => p,
        Ok(_) => {
            return Err(Diagnostic::new("E-TEST-PACK", "rule tests run from a pack folder")
                .in_file(&a.pack)
                .help("pass the folder holding pack.yaml and tests/, e.g. `marqa rules test rules/b2b-core`")
                .into())
        }
        Err(msg) => return Err(Diagnostic::new("E-PACK-NOT-FOUND", msg).in_file(&a.pack).into()),
    };
    let mut specs = a.eval.packs.clone();
    specs.push(root.to_string_lossy().into_owned());
    let pack = rules::resolve(&specs, &PathBuf::from("."))?;
    // The marqa.yaml over the pack folder gives locale, sandbox limits and jobs; its packs,
    // overrides and suppressions do not apply: the tests check the pack as written.
    let cfg = crate::config::resolve(&root, &a.eval.flags(), Path::new("."))?;
    let options = crate::audit::options(&cfg, &pack);
    let cases_dirs = cases::discover(&root);
    if cases_dirs.is_empty() {
        return Err(Diagnostic::new("E-TEST-NONE", "the pack has no test cases")
            .in_file(&root.join("tests"))
            .help("add tests/<case>/ with snapshot.yaml, the tables it needs and expected.yaml")
            .into());
    }
    let mut results = Vec::new();
    for dir in &cases_dirs {
        results.push(cases::run_case(dir, &pack, &options)?);
    }
    let (mut passed, mut failed) = (0, 0);
    let mut out = String::new();
    for case in &results {
        let _ = writeln!(out, "case {} ({})", case.name, case.dir.display());
        let w = case
            .checks
            .iter()
            .map(|c| c.expectation.label().chars().count())
            .max()
            .unwrap_or(4);
        for c in &case.checks {
            match &c.failure {
                None => {
                    passed += 1;
                    let _ = writeln!(
                        out,
                        "  ok    {:<w$}  {}",
                        c.expectation.label(),
                        c.expectation.status
                    );
                }
                Some(why) => {
                    failed += 1;
                    let _ = writeln!(
                        out,
                        "  FAIL  {:<w$}  {why}\n        at {}",
                        c.expectation.label(),
                        cases::location(case, &c.expectation)
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "\n{passed} passed, {failed} failed");
    out!("{out}");
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
