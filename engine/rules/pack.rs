//! Packs: a folder with pack.yaml, rule files (globs), scripts and tests. `extends` pulls
//! other packs in first, in order (depth first; a pack reached twice is loaded once, a
//! cycle is an error); then the pack's own rules are added and its `overrides` applied.
//! Later packs win because they apply their overrides last. The result is a
//! [`ResolvedPack`]: every rule, with where it came from and what overrode it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::load::{self, DocCtx, FileCtx};
use super::model::{Applied, Recommendation, Rule, Severity};
use super::source::{glob_match, PackSource, PACK_FILE};
use super::texts::{self, Text};
use crate::diag::{did_you_mean, Diagnostic, Diagnostics, Location};
use crate::eval::sandbox;
use crate::schema;
use crate::yaml::{self, pointer_segment, Document};

/// Rule files a pack reads when pack.yaml names no `rules` globs.
pub const DEFAULT_GLOBS: &[&str] = &["rules/**/*.yaml", "rules/**/*.yml"];

/// One pack that took part in a resolution.
#[derive(Debug, Clone, Serialize)]
pub struct PackInfo {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `builtin:NAME` or the folder / file it was read from.
    pub source: String,
    pub extends: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The folder on disk (None for built-in packs), for `marqa rules test`.
    #[serde(skip)]
    pub root: Option<PathBuf>,
}

/// Every rule of a pack and the packs it extends, overrides applied, in load order.
#[derive(Debug, Clone)]
pub struct ResolvedPack {
    /// The pack asked for (several `--pack`s: their names joined with `+`).
    pub name: String,
    pub locale: Option<String>,
    /// Packs in the order they were loaded (extended packs first).
    pub packs: Vec<PackInfo>,
    pub rules: Vec<Rule>,
}

impl ResolvedPack {
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Resolve packs named on the command line (`builtin:NAME` or paths relative to `base`),
/// in order, as if one pack extended them all. Every problem is returned together.
pub fn resolve(specs: &[String], base: &Path) -> Result<ResolvedPack, Diagnostics> {
    resolve_with_overrides(specs, base, &[])
}

/// `overrides` of a document that is not a pack (a project's marqa.yaml): the same keys as
/// pack.yaml's `overrides`, at `/overrides` in `doc`, applied the same way.
#[derive(Debug, Clone, Copy)]
pub struct ExtraOverrides<'a> {
    /// Who applied them, as `overridden` entries name it (e.g. `marqa.yaml`).
    pub label: &'a str,
    pub file: &'a Path,
    pub text: &'a str,
    pub doc: &'a Document,
}

/// [`resolve`], then apply `extra` overrides in order (each after the packs' own, so the
/// last wins). An override of an unknown rule or param is a diagnostic at its key.
pub fn resolve_with_overrides(
    specs: &[String],
    base: &Path,
    extra: &[ExtraOverrides],
) -> Result<ResolvedPack, Diagnostics> {
    let mut r = Resolver::new();
    let mut names = Vec::new();
    let mut locale = None;
    for spec in specs {
        match PackSource::open(spec, base) {
            Ok(src) => {
                let n_packs = r.packs.len();
                r.load(src, None);
                if let Some(top) = r
                    .packs
                    .get(r.packs.len().saturating_sub(1))
                    .filter(|_| r.packs.len() > n_packs)
                {
                    names.push(top.name.clone());
                    if top.locale.is_some() {
                        locale = top.locale.clone();
                    }
                }
            }
            Err(msg) => r.errors.push(
                Diagnostic::new("E-PACK-NOT-FOUND", msg)
                    .in_file(&base.join(spec))
                    .help("pass `builtin:b2b-core`, a folder holding pack.yaml, or a rules file"),
            ),
        }
    }
    if r.errors.is_empty() {
        for x in extra {
            r.apply_overrides(x.label, x.doc, x.text, x.file);
        }
    }
    if !r.errors.is_empty() {
        return Err(Diagnostics(r.errors));
    }
    Ok(ResolvedPack {
        name: names.join("+"),
        locale,
        packs: r.packs,
        rules: r.rules,
    })
}

struct Resolver {
    engine: rhai::Engine,
    templates: minijinja::Environment<'static>,
    stack: Vec<String>,
    seen: HashSet<String>,
    packs: Vec<PackInfo>,
    rules: Vec<Rule>,
    /// Rule id -> index in `rules`.
    index: HashMap<String, usize>,
    errors: Vec<Diagnostic>,
}

impl Resolver {
    fn new() -> Self {
        Resolver {
            engine: sandbox::engine(&sandbox::Limits::default()),
            templates: texts::environment("en", ""),
            stack: Vec::new(),
            seen: HashSet::new(),
            packs: Vec::new(),
            rules: Vec::new(),
            index: HashMap::new(),
            errors: Vec::new(),
        }
    }

    fn load(&mut self, src: PackSource, from: Option<Location>) {
        let id = src.id();
        if self.stack.contains(&id) {
            let mut chain = self.stack.clone();
            chain.push(id);
            let d = Diagnostic::new(
                "E-PACK-CYCLE",
                format!("packs extend each other in a cycle: {}", chain.join(" -> ")),
            )
            .help("remove one of the `extends` entries");
            self.errors.push(match from {
                Some(l) => d.at(l),
                None => d,
            });
            return;
        }
        if !self.seen.insert(id.clone()) {
            return; // already loaded through another path: once is enough
        }
        self.stack.push(id.clone());
        let manifest_file = src.display(PACK_FILE);
        let (manifest, doc, text) = if src.has_manifest() {
            match self.read_manifest(&src, &manifest_file) {
                Some(x) => x,
                None => {
                    self.stack.pop();
                    return;
                }
            }
        } else {
            let name = match &src {
                PackSource::File(p) => p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            (
                PackManifest {
                    name,
                    ..PackManifest::default()
                },
                None,
                String::new(),
            )
        };

        for (i, ext) in manifest.extends.iter().enumerate() {
            let at = doc
                .as_ref()
                .map(|d| d.location(&manifest_file, &format!("/extends/{i}")))
                .unwrap_or_else(|| Location::file(&manifest_file));
            match src.resolve(ext) {
                Ok(s) => self.load(s, Some(at)),
                Err(msg) => self.errors.push(
                    Diagnostic::new("E-PACK-EXTENDS", msg)
                        .at(at)
                        .help("extend `builtin:NAME` or a pack folder relative to this pack.yaml"),
                ),
            }
        }

        self.load_rules(&src, &manifest, doc.as_ref(), &manifest_file);
        if let Some(doc) = &doc {
            self.apply_overrides(&manifest.name, doc, &text, &manifest_file);
        }
        self.packs.push(PackInfo {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            description: manifest.description.clone(),
            source: match &src {
                PackSource::Builtin(b) => format!("builtin:{}", b.name),
                PackSource::Dir(p) | PackSource::File(p) => p.display().to_string(),
            },
            extends: manifest.extends.clone(),
            locale: manifest.locale.clone(),
            root: match &src {
                PackSource::Dir(p) => Some(p.clone()),
                _ => None,
            },
        });
        self.stack.pop();
    }

    fn read_manifest(
        &mut self,
        src: &PackSource,
        file: &Path,
    ) -> Option<(PackManifest, Option<Document>, String)> {
        let text = match src.read(PACK_FILE) {
            Ok(t) => t,
            Err(msg) => {
                self.errors
                    .push(Diagnostic::new("E-PACK-READ", msg).in_file(file));
                return None;
            }
        };
        let doc = match yaml::parse_single(&text, file) {
            Ok(d) => d,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let errs = schema::PACK.check(&doc, file);
        if !errs.is_empty() {
            self.errors.extend(errs);
            return None;
        }
        let v = &doc.value;
        let strs = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let m = PackManifest {
            name: v["name"].as_str().unwrap_or_default().to_string(),
            version: v.get("version").map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            description: v
                .get("description")
                .and_then(Value::as_str)
                .map(String::from),
            extends: strs("extends"),
            rules: v.get("rules").map(|_| strs("rules")),
            locale: v.get("locale").and_then(Value::as_str).map(String::from),
        };
        Some((m, Some(doc), text))
    }

    fn load_rules(
        &mut self,
        src: &PackSource,
        m: &PackManifest,
        doc: Option<&Document>,
        manifest_file: &Path,
    ) {
        let (files, problems) = src.files();
        for (path, why) in problems {
            self.errors.push(
                Diagnostic::new(
                    "E-PACK-ENTRY",
                    format!("cannot read this pack entry: {why}"),
                )
                .in_file(&path)
                .help("remove the link or point it at a file inside the pack folder"),
            );
        }
        let selected: Vec<&String> = match (&m.rules, src) {
            (_, PackSource::File(_)) => files.iter().collect(),
            (Some(globs), _) => {
                for (i, g) in globs.iter().enumerate() {
                    if !files.iter().any(|f| glob_match(g, f)) {
                        let at = doc
                            .map(|d| d.location(manifest_file, &format!("/rules/{i}")))
                            .unwrap_or_else(|| Location::file(manifest_file));
                        self.errors.push(
                            Diagnostic::new("E-PACK-GLOB", format!("`{g}` matches no file in the pack"))
                                .at(at)
                                .help("globs are relative to the pack folder, e.g. `rules/*.yaml` or `rules/**/*.yaml`"),
                        );
                    }
                }
                files
                    .iter()
                    .filter(|f| globs.iter().any(|g| glob_match(g, f)))
                    .collect()
            }
            (None, _) => files
                .iter()
                .filter(|f| DEFAULT_GLOBS.iter().any(|g| glob_match(g, f)))
                .collect(),
        };
        let read = |rel: &str| -> Result<(PathBuf, String), String> {
            if !rel.ends_with(".rhai") {
                return Err(format!("`{rel}` is not a .rhai file"));
            }
            src.read(rel).map(|t| (src.display(rel), t))
        };
        let fcx = FileCtx {
            pack: &m.name,
            read: &read,
            engine: &self.engine,
            templates: &self.templates,
        };
        for rel in selected {
            let (file, text) = match src {
                PackSource::File(p) => (
                    p.clone(),
                    std::fs::read_to_string(p).map_err(|e| e.to_string()),
                ),
                _ => (src.display(rel), src.read(rel)),
            };
            let text = match text {
                Ok(t) => t,
                Err(msg) => {
                    self.errors
                        .push(Diagnostic::new("E-PACK-READ", msg).in_file(&file));
                    continue;
                }
            };
            let (rules, errs) = load::parse_file(&text, &file, &fcx);
            self.errors.extend(errs);
            for rule in rules {
                match self.index.get(&rule.id) {
                    Some(&i) => {
                        let first = &self.rules[i].origin;
                        let same_pack = first.pack == rule.origin.pack;
                        self.errors.push(
                            Diagnostic::new(
                                "E-RULE-DUPLICATE-ID",
                                format!(
                                    "rule id `{}` is already defined at {}:{}{}",
                                    rule.id,
                                    first.file.display(),
                                    first.line,
                                    if same_pack { String::new() } else { format!(" (pack {})", first.pack) }
                                ),
                            )
                            .at(Location::at(&rule.origin.file, rule.origin.line, 1))
                            .help(if same_pack {
                                "give each rule its own id".to_string()
                            } else {
                                format!(
                                    "change the existing rule with `overrides: {{{}: …}}` in pack.yaml, or disable it (`enabled: false`) and give this rule a new id",
                                    rule.id
                                )
                            }),
                        );
                    }
                    None => {
                        self.index.insert(rule.id.clone(), self.rules.len());
                        self.rules.push(rule);
                    }
                }
            }
        }
    }

    fn apply_overrides(&mut self, pack: &str, doc: &Document, text: &str, file: &Path) {
        let Some(overrides) = doc.value.get("overrides").and_then(Value::as_object) else {
            return;
        };
        let dcx = DocCtx {
            file,
            text,
            doc,
            engine: &self.engine,
        };
        let read = |_: &str| -> Result<(PathBuf, String), String> {
            Err("no scripts in pack.yaml".into())
        };
        let fcx = FileCtx {
            pack,
            read: &read,
            engine: &self.engine,
            templates: &self.templates,
        };
        // In file order, so messages come out the way the file reads.
        let mut entries: Vec<(&String, &Value)> = overrides.iter().collect();
        entries.sort_by_key(|(id, _)| {
            doc.positions
                .key(&format!("/overrides/{}", pointer_segment(id)))
        });
        for (id, ov) in entries {
            let ptr = format!("/overrides/{}", pointer_segment(id));
            let Some(&i) = self.index.get(id) else {
                let d = dcx.key_err(
                    "E-PACK-OVERRIDE-UNKNOWN",
                    &ptr,
                    format!("override of unknown rule `{id}`"),
                );
                self.errors.push(match did_you_mean(id, self.index.keys().map(String::as_str)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("overrides change rules of this pack or of the packs it extends; `marqa rules list --pack …` lists their ids"),
                });
                continue;
            };
            let mut errors = Vec::new();
            let mut changes = Vec::new();
            let rule = &self.rules[i];
            let mut params = rule.params.clone();
            if let Some(p) = ov.get("params").and_then(Value::as_object) {
                for (k, v) in p {
                    match params.get(k) {
                        Some(old) => {
                            if old != v {
                                changes.push(format!(
                                    "params.{k}: {} -> {}",
                                    compact(old),
                                    compact(v)
                                ));
                            }
                            params.insert(k.clone(), v.clone());
                        }
                        None => {
                            let kptr = format!("{ptr}/params/{}", pointer_segment(k));
                            let d = dcx.key_err(
                                "E-PACK-OVERRIDE-PARAM",
                                &kptr,
                                format!("rule `{id}` has no param `{k}`"),
                            );
                            errors.push(
                                match did_you_mean(k, rule.params.keys().map(String::as_str)) {
                                    Some(s) => d.help(format!("did you mean `{s}`?")),
                                    None if rule.params.is_empty() => {
                                        d.help(format!("rule `{id}` takes no params"))
                                    }
                                    None => d.help(format!(
                                        "params of `{id}`: {}",
                                        rule.params.keys().cloned().collect::<Vec<_>>().join(", ")
                                    )),
                                },
                            );
                        }
                    }
                }
            }
            let severity = ov
                .get("severity")
                .and_then(Value::as_str)
                .and_then(Severity::parse);
            if let Some(s) = severity.filter(|s| *s != rule.severity) {
                changes.push(format!("severity: {} -> {s}", rule.severity));
            }
            let enabled = ov.get("enabled").and_then(Value::as_bool);
            if let Some(e) = enabled.filter(|e| *e != rule.enabled) {
                changes.push(format!("enabled: {} -> {e}", rule.enabled));
            }
            let mut text_over =
                |key: &str, cur: Option<&Text>, errors: &mut Vec<Diagnostic>| -> Option<Text> {
                    let t = Text::from_json(ov.get(key)?)?;
                    load::check_text(&dcx, &self.templates, &t, &format!("{ptr}/{key}"), errors);
                    changes.push(format!("{key} replaced"));
                    Some(match cur {
                        Some(c) => c.merged(&t),
                        None => t,
                    })
                };
            let title = text_over("title", Some(&rule.title), &mut errors);
            let message = text_over("message", rule.message.as_ref(), &mut errors);
            let docs = text_over("docs", rule.docs.as_ref(), &mut errors);
            let recommendation = ov.get("recommendation").map(|r| {
                let over = load::parse_recommendation(
                    &dcx,
                    &fcx,
                    r,
                    &format!("{ptr}/recommendation"),
                    &mut errors,
                );
                changes.push("recommendation changed".to_string());
                merge_recommendation(rule.recommendation.as_ref(), over)
            });
            if !errors.is_empty() {
                self.errors.extend(errors);
                continue;
            }
            let line = doc.positions.key(&ptr).map(|p| p.0).unwrap_or(1);
            let rule = &mut self.rules[i];
            rule.params = params;
            if let Some(s) = severity {
                rule.severity = s;
            }
            if let Some(e) = enabled {
                rule.enabled = e;
            }
            if let Some(t) = title {
                rule.title = t;
            }
            if message.is_some() {
                rule.message = message;
            }
            if docs.is_some() {
                rule.docs = docs;
            }
            if recommendation.is_some() {
                rule.recommendation = recommendation;
            }
            if !changes.is_empty() {
                rule.overridden.push(Applied {
                    pack: pack.to_string(),
                    file: file.to_path_buf(),
                    line,
                    changes,
                });
            }
        }
    }
}

fn merge_recommendation(base: Option<&Recommendation>, over: Recommendation) -> Recommendation {
    let Some(b) = base else { return over };
    Recommendation {
        text: match (&b.text, over.text) {
            (Some(bt), Some(ot)) => Some(bt.merged(&ot)),
            (bt, ot) => ot.or_else(|| bt.clone()),
        },
        owner: over.owner.or_else(|| b.owner.clone()),
        effort: over.effort.or(b.effort),
        impact: over.impact.or(b.impact),
        priority: over.priority.or(b.priority),
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, Default)]
struct PackManifest {
    name: String,
    version: Option<String>,
    description: Option<String>,
    extends: Vec<String>,
    rules: Option<Vec<String>>,
    locale: Option<String>,
}

/// Params of a rule as a JSON object (for templates and scripts).
pub fn params_json(params: &BTreeMap<String, Value>) -> Value {
    Value::Object(params.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}
