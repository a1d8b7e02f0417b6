//! Mapping files: how the columns of raw exports become the columns of snapshot tables.
//! A mapping is YAML checked against `schemas/import-mapping.schema.json`, then against
//! the snapshot spec (target tables and columns, required columns, vocabularies); every
//! error points at its line and column. Presets are mappings embedded in the binary.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use regex::Regex;
use serde_json::Value;

use super::datefmt::DateFormat;
use super::expr::{self, Expr};
use super::number::{DecimalSep, NumberFormat, Scale};
use super::text::norm;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::schema;
use crate::snapshot::manifest::zone;
use crate::snapshot::spec::{ColType, ColumnSpec, TableName};
use crate::yaml::{self, pointer_segment, Document};

/// Cell texts that mean "no value" unless a mapping says otherwise: Yandex Direct writes
/// `--` for metrics it has no value for.
pub const DEFAULT_NULLS: &[&str] = &["--", "—"];
/// Date formats tried when a mapping names none.
pub const DEFAULT_DATE_FORMATS: &[&str] = &["iso", "DD.MM.YYYY[ HH:MM[:SS]]"];

#[derive(Debug)]
pub struct Mapping {
    /// `preset:amocrm` or the mapping file: what diagnostics name.
    pub path: PathBuf,
    pub preset: Option<String>,
    pub doc: Document,
    pub name: Option<String>,
    pub title: Option<String>,
    pub system: Option<(String, String)>,
    pub snapshot: SnapshotDefaults,
    pub stage_order: Vec<String>,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, Default)]
pub struct SnapshotDefaults {
    pub company: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub as_of: Option<String>,
}

/// One target table filled from one source file.
#[derive(Debug)]
pub struct Part {
    /// JSON pointer of the part in the mapping (`/tables/2`), for messages.
    pub pointer: String,
    pub table: TableName,
    /// The export to read (resolved against the mapping's folder), or none in a preset.
    pub file: Option<PathBuf>,
    pub read: ReadOptions,
    pub skip_rows: Vec<Regex>,
    pub nulls: Vec<String>,
    pub timezone: Option<TimeZone>,
    pub optional: bool,
    pub when_has: Vec<Vec<Alias>>,
    pub when_lacks: Vec<Vec<Alias>>,
    pub keep_extra: bool,
    pub fields: Vec<Field>,
    /// Field indexes in evaluation order (fields an expression reads come first).
    pub order: Vec<usize>,
}

/// How to read a source file; together with the path, the key of a parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReadOptions {
    pub sheet: Option<SheetRef>,
    pub header_row: Option<u64>,
    pub encoding: Option<String>,
    pub delimiter: Option<u8>,
    pub json_pointer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SheetRef {
    Name(String),
    /// 1-based.
    Index(usize),
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub spec: Option<&'static ColumnSpec>,
    pub ty: ColType,
    pub required: bool,
    pub leaves: Vec<Leaf>,
    pub default: Option<String>,
    pub invalid_null: bool,
    pub pointer: String,
}

impl Field {
    /// Allowed values when the column is a closed vocabulary.
    pub fn vocab(&self) -> Option<&'static [&'static str]> {
        self.spec.and_then(|s| s.values)
    }
}

/// One way to get a field's value: a source, an optional value map, the conversion.
#[derive(Debug)]
pub struct Leaf {
    pub source: Source,
    pub map: Option<ValueMap>,
    pub unmapped: Unmapped,
    pub formats: Vec<DateFormat>,
    pub number: NumberFormat,
    pub duration: bool,
    pub timezone: Option<TimeZone>,
    pub pointer: String,
}

#[derive(Debug)]
pub enum Source {
    /// Aliases; `index` is the matched column once the file's header is known.
    Column {
        aliases: Vec<Alias>,
        index: Option<usize>,
    },
    Const(String),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub enum Alias {
    /// A header name as written, and normalized (see `text::norm`).
    Exact {
        text: String,
        normed: String,
    },
    Regex(Regex),
}

impl Alias {
    pub fn parse(s: &str) -> Result<Alias, String> {
        match s.strip_prefix("re:") {
            Some(p) => Regex::new(&format!("(?i){p}"))
                .map(Alias::Regex)
                .map_err(|e| format!("bad regular expression: {e}")),
            None => Ok(Alias::Exact {
                text: s.trim().to_string(),
                normed: norm(s),
            }),
        }
    }
    /// Whether a normalized header matches.
    pub fn matches(&self, normed: &str) -> bool {
        match self {
            Alias::Exact { normed: a, .. } => a == normed,
            Alias::Regex(re) => re.is_match(normed),
        }
    }
    pub fn display(&self) -> String {
        match self {
            Alias::Exact { text, .. } => text.clone(),
            Alias::Regex(re) => format!("re:{}", re.as_str().trim_start_matches("(?i)")),
        }
    }
}

/// Raw value → normalized value.
#[derive(Debug, Default)]
pub struct ValueMap {
    exact: HashMap<String, String>,
    regex: Vec<(Regex, String)>,
    catch_all: Option<String>,
}

impl ValueMap {
    pub fn get(&self, raw: &str) -> Option<&str> {
        let n = norm(raw);
        if let Some(v) = self.exact.get(&n) {
            return Some(v);
        }
        if let Some((_, v)) = self.regex.iter().find(|(re, _)| re.is_match(&n)) {
            return Some(v);
        }
        self.catch_all.as_deref()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmapped {
    Keep,
    Slug,
    Reject,
}

/// Load a mapping file from disk.
pub fn load_file(path: &Path) -> Result<Mapping, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new("E-MAPPING-READ", format!("cannot read the mapping: {e}"))
            .in_file(path)
            .help("check the path of --mapping")
    })?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    parse(&text, path, &base, None)
}

/// Parse a mapping. `base` is the folder `file:` paths are relative to; `preset` names an
/// embedded preset (diagnostics then name `preset:NAME`).
pub fn parse(
    text: &str,
    path: &Path,
    base: &Path,
    preset: Option<&str>,
) -> Result<Mapping, Diagnostics> {
    let doc = yaml::parse_single(text, path)?;
    if let Some(d) = crate::secrets::find(&doc, path, "the mapping") {
        return Err(d.into());
    }
    let errors = schema::IMPORT_MAPPING.check(&doc, path);
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    let mut b = Builder {
        doc: &doc,
        path,
        errors: Vec::new(),
    };
    let v = &doc.value;
    let str_at = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let nulls: Vec<String> = match v.get("null_values").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(Value::as_str).map(norm).collect(),
        None => DEFAULT_NULLS.iter().map(|s| norm(s)).collect(),
    };
    let date_formats = match v.get("date_formats") {
        Some(f) => b.date_formats(f, "/date_formats"),
        None => DEFAULT_DATE_FORMATS
            .iter()
            .map(|s| DateFormat::parse_spec(s).expect("default formats parse"))
            .collect(),
    };
    let number = v.get("number").map(number_format).unwrap_or_default();
    let timezone = v
        .get("timezone")
        .and_then(Value::as_str)
        .and_then(|z| b.zone(z, "/timezone"));
    let snap = v.get("snapshot");
    let snap_str = |k: &str| {
        snap.and_then(|s| s.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let Some(z) = snap_str("timezone") {
        b.zone(&z, "/snapshot/timezone");
    }
    let defaults = Defaults {
        nulls,
        date_formats,
        number,
        timezone,
    };
    let mut parts = Vec::new();
    for (i, p) in v["tables"].as_array().into_iter().flatten().enumerate() {
        if let Some(part) = b.part(p, &format!("/tables/{i}"), base, &defaults) {
            parts.push(part);
        }
    }
    if !b.errors.is_empty() {
        return Err(Diagnostics(b.errors));
    }
    let system = v.get("system").map(|s| {
        (
            s["name"].as_str().unwrap_or_default().to_string(),
            s["kind"].as_str().unwrap_or_default().to_string(),
        )
    });
    Ok(Mapping {
        path: path.to_path_buf(),
        preset: preset.map(str::to_string),
        name: str_at("name"),
        title: str_at("title"),
        system,
        snapshot: SnapshotDefaults {
            company: snap_str("company"),
            currency: snap_str("currency"),
            timezone: snap_str("timezone"),
            as_of: snap_str("as_of"),
        },
        stage_order: v
            .get("stage_order")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        parts,
        doc,
    })
}

struct Defaults {
    nulls: Vec<String>,
    date_formats: Vec<DateFormat>,
    number: NumberFormat,
    timezone: Option<TimeZone>,
}

struct Builder<'a> {
    doc: &'a Document,
    path: &'a Path,
    errors: Vec<Diagnostic>,
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn number_format(v: &Value) -> NumberFormat {
    NumberFormat {
        decimal: match v.get("decimal").and_then(Value::as_str) {
            Some(",") => DecimalSep::Comma,
            Some(".") => DecimalSep::Dot,
            _ => DecimalSep::Auto,
        },
        scale: match v.get("scale").and_then(Value::as_str) {
            Some("cents") => Scale::Cents,
            Some("micros") => Scale::Micros,
            _ => Scale::Units,
        },
    }
}

fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

impl Builder<'_> {
    fn error(&mut self, code: &'static str, ptr: &str, message: String, help: impl Into<String>) {
        self.errors.push(
            Diagnostic::new(code, message)
                .at(self.doc.location(self.path, ptr))
                .help(help),
        );
    }

    fn key_error(&mut self, code: &'static str, ptr: &str, message: String, help: String) {
        self.errors.push(
            Diagnostic::new(code, message)
                .at(self.doc.key_location(self.path, ptr))
                .help(help),
        );
    }

    fn zone(&mut self, name: &str, ptr: &str) -> Option<TimeZone> {
        match zone(name) {
            Ok(tz) => Some(tz),
            Err(help) => {
                self.error(
                    "E-MAPPING-TIMEZONE",
                    ptr,
                    format!("unknown time zone `{name}`"),
                    help,
                );
                None
            }
        }
    }

    fn aliases(&mut self, v: &Value, ptr: &str) -> Vec<Alias> {
        self.parsed_list(
            v,
            ptr,
            Alias::parse,
            "E-MAPPING-REGEX",
            "fix the pattern after `re:` (Rust regex syntax)",
        )
    }

    fn date_formats(&mut self, v: &Value, ptr: &str) -> Vec<DateFormat> {
        self.parsed_list(
            v,
            ptr,
            DateFormat::parse_spec,
            "E-MAPPING-DATE-FORMAT",
            "write a pattern like DD.MM.YYYY HH:MM[:SS], or iso, unix, unix_ms, excel",
        )
    }

    /// A string or a list of strings, each parsed; each one that does not parse is an error
    /// at its own position.
    fn parsed_list<T>(
        &mut self,
        v: &Value,
        ptr: &str,
        parse: impl Fn(&str) -> Result<T, String>,
        code: &'static str,
        help: &str,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for (i, s) in string_list(v).iter().enumerate() {
            match parse(s) {
                Ok(x) => out.push(x),
                Err(e) => {
                    let p = if v.is_array() {
                        format!("{ptr}/{i}")
                    } else {
                        ptr.to_string()
                    };
                    self.error(code, &p, e, help);
                }
            }
        }
        out
    }

    fn part(&mut self, p: &Value, ptr: &str, base: &Path, d: &Defaults) -> Option<Part> {
        let table = TableName::parse(p["table"].as_str()?)?;
        let spec = table.spec();
        let timezone = match p.get("timezone").and_then(Value::as_str) {
            Some(z) => self.zone(z, &format!("{ptr}/timezone")),
            None => d.timezone.clone(),
        };
        let mut skip_rows = Vec::new();
        for (i, s) in p
            .get("skip_rows")
            .map(string_list)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            match Regex::new(&format!("(?i){s}")) {
                Ok(re) => skip_rows.push(re),
                Err(e) => self.error(
                    "E-MAPPING-REGEX",
                    &format!("{ptr}/skip_rows/{i}"),
                    format!("bad regular expression: {e}"),
                    "skip_rows are regular expressions matched against a row's first non-empty cell",
                ),
            }
        }
        let when = p.get("when");
        let mut groups = |key: &str| -> Vec<Vec<Alias>> {
            when.and_then(|w| w.get(key))
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .enumerate()
                        .map(|(i, a)| self.aliases(a, &format!("{ptr}/when/{key}/{i}")))
                        .collect()
                })
                .unwrap_or_default()
        };
        let when_has = groups("has");
        let when_lacks = groups("lacks");
        let read = ReadOptions {
            sheet: p.get("sheet").and_then(|s| match s {
                Value::String(s) => Some(SheetRef::Name(s.clone())),
                Value::Number(n) => n.as_u64().map(|n| SheetRef::Index(n as usize)),
                _ => None,
            }),
            header_row: p.get("header_row").and_then(Value::as_u64),
            encoding: p
                .get("encoding")
                .and_then(Value::as_str)
                .map(str::to_string),
            delimiter: p.get("delimiter").and_then(Value::as_str).map(|d| match d {
                "\t" | "tab" => b'\t',
                other => other.as_bytes()[0],
            }),
            json_pointer: p
                .get("json_pointer")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        if matches!(read.sheet, Some(SheetRef::Index(0))) {
            self.error(
                "E-MAPPING-SHEET",
                &format!("{ptr}/sheet"),
                "sheets are numbered from 1".into(),
                "write `sheet: 1` for the first sheet, or the sheet's name",
            );
        }

        let mut fields = Vec::new();
        let empty = serde_json::Map::new();
        let columns = p["columns"].as_object().unwrap_or(&empty);
        let col_names: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
        // Spec order, so the output's columns follow snapshot.md.
        let mut keys: Vec<&String> = columns.keys().collect();
        keys.sort_by_key(|k| col_names.iter().position(|c| c == k).unwrap_or(usize::MAX));
        for name in keys {
            let fptr = format!("{ptr}/columns/{}", pointer_segment(name));
            let Some(cspec) = spec.column(name) else {
                let help = match did_you_mean(name, col_names.iter().copied()) {
                    Some(s) => {
                        format!("did you mean `{s}`? Columns not in the spec go under `extra:`")
                    }
                    None => format!(
                        "columns of {table}: {}; columns not in the spec go under `extra:`",
                        col_names.join(", ")
                    ),
                };
                self.key_error(
                    "E-MAPPING-COLUMN",
                    &fptr,
                    format!("table {table} has no column `{name}`"),
                    help,
                );
                continue;
            };
            if let Some(f) = self.field(name, Some(cspec), cspec.ty, &columns[name], &fptr, d) {
                fields.push(f);
            }
        }
        if let Some(extra) = p.get("extra").and_then(Value::as_object) {
            for (name, v) in extra {
                let fptr = format!("{ptr}/extra/{}", pointer_segment(name));
                if spec.column(name).is_some() {
                    self.key_error(
                        "E-MAPPING-COLUMN",
                        &fptr,
                        format!("`{name}` is a column of {table}, not an extra one"),
                        "move it under `columns:`".into(),
                    );
                    continue;
                }
                if name.trim().is_empty() || name.trim() != name {
                    self.key_error(
                        "E-MAPPING-COLUMN",
                        &fptr,
                        format!("extra column name {name:?} is empty or has surrounding spaces"),
                        "name extra columns plainly, e.g. `pipeline`".into(),
                    );
                    continue;
                }
                if let Some(f) = self.field(name, None, ColType::Text, v, &fptr, d) {
                    fields.push(f);
                }
            }
        }
        for c in spec.columns.iter().filter(|c| c.required) {
            if !columns.contains_key(c.name) {
                self.error(
                    "E-MAPPING-REQUIRED",
                    &format!("{ptr}/columns"),
                    format!(
                        "the {table} part does not fill required column `{}`",
                        c.name
                    ),
                    format!(
                        "add `{}:` under `columns:` ({}: {})",
                        c.name,
                        c.ty.name(),
                        c.doc
                    ),
                );
            }
        }
        let order = self.bind_fields(&mut fields, ptr)?;
        Some(Part {
            pointer: ptr.to_string(),
            table,
            file: p.get("file").and_then(Value::as_str).map(|f| base.join(f)),
            read,
            skip_rows,
            nulls: d.nulls.clone(),
            timezone,
            optional: p.get("optional").and_then(Value::as_bool).unwrap_or(false),
            when_has,
            when_lacks,
            keep_extra: p.get("extra_columns").and_then(Value::as_str) != Some("drop"),
            fields,
            order,
        })
    }

    fn field(
        &mut self,
        name: &str,
        spec: Option<&'static ColumnSpec>,
        ty: ColType,
        v: &Value,
        ptr: &str,
        d: &Defaults,
    ) -> Option<Field> {
        let mut leaves = Vec::new();
        let mut default = None;
        let mut invalid_null = false;
        match v {
            Value::String(_) | Value::Array(_) => {
                let aliases = self.aliases(v, ptr);
                leaves.push(self.plain_leaf(
                    Source::Column {
                        aliases,
                        index: None,
                    },
                    ty,
                    ptr,
                    d,
                ));
            }
            Value::Object(o) => {
                if let Some(any) = o.get("any").and_then(Value::as_array) {
                    if let Some(k) = [
                        "from", "value", "expr", "map", "unmapped", "format", "number", "timezone",
                    ]
                    .iter()
                    .find(|k| o.contains_key(**k))
                    {
                        self.key_error(
                            "E-MAPPING-FIELD",
                            &format!("{ptr}/{k}"),
                            format!("`{k}` next to `any` in `{name}`"),
                            "put it inside each alternative of `any`".into(),
                        );
                    }
                    for (i, alt) in any.iter().enumerate() {
                        if let Some(l) = self.leaf(name, alt, ty, &format!("{ptr}/any/{i}"), d) {
                            leaves.push(l);
                        }
                    }
                } else if let Some(l) = self.leaf(name, v, ty, ptr, d) {
                    leaves.push(l);
                }
                default = o.get("default").map(scalar_text);
                invalid_null = o.get("invalid").and_then(Value::as_str) == Some("null");
            }
            _ => return None,
        }
        if let (Some(dv), Some(values)) = (&default, spec.and_then(|s| s.values)) {
            if !values.contains(&dv.as_str()) {
                self.error(
                    "E-MAPPING-VALUE",
                    &format!("{ptr}/default"),
                    format!("`{dv}` is not an allowed value of `{name}`"),
                    format!("use one of: {}", values.join(", ")),
                );
            }
        }
        Some(Field {
            name: name.to_string(),
            spec,
            ty,
            required: spec.is_some_and(|s| s.required),
            leaves,
            default,
            invalid_null,
            pointer: ptr.to_string(),
        })
    }

    fn plain_leaf(&mut self, source: Source, _ty: ColType, ptr: &str, d: &Defaults) -> Leaf {
        Leaf {
            source,
            map: None,
            unmapped: Unmapped::Keep,
            formats: d.date_formats.clone(),
            number: d.number,
            duration: false,
            timezone: None,
            pointer: ptr.to_string(),
        }
    }

    fn leaf(
        &mut self,
        name: &str,
        v: &Value,
        ty: ColType,
        ptr: &str,
        d: &Defaults,
    ) -> Option<Leaf> {
        let o = v.as_object()?;
        let given: Vec<&str> = ["from", "value", "expr"]
            .into_iter()
            .filter(|k| o.contains_key(*k))
            .collect();
        if given.len() != 1 {
            self.error(
                "E-MAPPING-FIELD",
                ptr,
                format!(
                    "`{name}` needs exactly one of `from`, `value`, `expr`{}",
                    if given.is_empty() { " or `any`".to_string() } else { format!(" (it has {})", given.join(", ")) }
                ),
                "`from: [Header, Другой заголовок]` reads a column, `value: x` is a constant, `expr: domain(email)` derives",
            );
            return None;
        }
        let source = if let Some(f) = o.get("from") {
            Source::Column {
                aliases: self.aliases(f, &format!("{ptr}/from")),
                index: None,
            }
        } else if let Some(c) = o.get("value") {
            Source::Const(scalar_text(c))
        } else {
            let text = o["expr"].as_str().unwrap_or_default();
            match expr::parse(text) {
                Ok(e) => Source::Expr(e),
                Err(e) => {
                    self.error(
                        "E-MAPPING-EXPR",
                        &format!("{ptr}/expr"),
                        format!("in `{name}`: {e}"),
                        format!("functions: {}", expr::function_names().join(", ")),
                    );
                    return None;
                }
            }
        };
        let mut leaf = self.plain_leaf(source, ty, ptr, d);
        if let Some(m) = o.get("map").and_then(Value::as_object) {
            let mut vm = ValueMap::default();
            for (k, val) in m {
                let out = scalar_text(val);
                if k == "*" {
                    vm.catch_all = Some(out);
                } else if let Some(p) = k.strip_prefix("re:") {
                    match Regex::new(&format!("(?i){p}")) {
                        Ok(re) => vm.regex.push((re, out)),
                        Err(e) => self.key_error(
                            "E-MAPPING-REGEX",
                            &format!("{ptr}/map/{}", pointer_segment(k)),
                            format!("bad regular expression: {e}"),
                            "map keys starting with `re:` are regular expressions".into(),
                        ),
                    }
                } else {
                    vm.exact.insert(norm(k), out);
                }
            }
            leaf.map = Some(vm);
        }
        leaf.unmapped = match o.get("unmapped").and_then(Value::as_str) {
            Some("slug") => Unmapped::Slug,
            Some("reject") => Unmapped::Reject,
            _ => Unmapped::Keep,
        };
        if let Some(f) = o.get("format") {
            let fptr = format!("{ptr}/format");
            match ty {
                ColType::Timestamp | ColType::Date => leaf.formats = self.date_formats(f, &fptr),
                ColType::Int if string_list(f) == ["duration"] => leaf.duration = true,
                _ => self.error(
                    "E-MAPPING-FORMAT",
                    &fptr,
                    format!("`format` does not apply to `{name}` ({})", ty.name()),
                    "`format` gives date formats for timestamp and date columns, or `duration` for int columns",
                ),
            }
        }
        if let Some(n) = o.get("number") {
            leaf.number = number_format(n);
        }
        if let Some(z) = o.get("timezone").and_then(Value::as_str) {
            leaf.timezone = self.zone(z, &format!("{ptr}/timezone"));
        }
        Some(leaf)
    }

    /// Resolve expression references to field indexes and order the fields so that every
    /// field is computed after the ones it reads.
    fn bind_fields(&mut self, fields: &mut [Field], ptr: &str) -> Option<Vec<usize>> {
        let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); fields.len()];
        let mut ok = true;
        for (i, f) in fields.iter_mut().enumerate() {
            for leaf in &mut f.leaves {
                let Source::Expr(e) = &mut leaf.source else {
                    continue;
                };
                let mut unknown = Vec::new();
                e.visit_mut(&mut |n| {
                    if let Expr::Field { name, index } = n {
                        match names.iter().position(|x| x == name) {
                            Some(j) => {
                                *index = j;
                                deps[i].push(j);
                            }
                            None => unknown.push(name.clone()),
                        }
                    }
                });
                for u in unknown {
                    ok = false;
                    let help = match did_you_mean(&u, names.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`? A bare name is another field of this table; a source column is col('{u}')"),
                        None => format!("a bare name is another field of this table ({}); a source column is col('{u}')", names.join(", ")),
                    };
                    self.errors.push(
                        Diagnostic::new(
                            "E-MAPPING-EXPR",
                            format!("in `{}`: `{u}` is not a field of this table", f.name),
                        )
                        .at(self
                            .doc
                            .location(self.path, &format!("{}/expr", leaf.pointer)))
                        .help(help),
                    );
                }
            }
        }
        if !ok {
            return None;
        }
        // Kahn's algorithm; among ready fields, definition order.
        let mut indegree: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut order = Vec::with_capacity(fields.len());
        let mut done = vec![false; fields.len()];
        while order.len() < fields.len() {
            let Some(next) = (0..fields.len()).find(|&i| !done[i] && indegree[i] == 0) else {
                let cycle: Vec<&str> = (0..fields.len())
                    .filter(|&i| !done[i])
                    .map(|i| fields[i].name.as_str())
                    .collect();
                self.error(
                    "E-MAPPING-CYCLE",
                    ptr,
                    format!(
                        "expressions read each other in a circle: {}",
                        cycle.join(", ")
                    ),
                    "make one of them read a source column (col('…')) instead",
                );
                return None;
            };
            done[next] = true;
            order.push(next);
            for (i, d) in deps.iter().enumerate() {
                indegree[i] -= d.iter().filter(|&&j| j == next).count();
            }
        }
        Some(order)
    }
}

/// Every alias group a part uses (fields and `col()` references): what header detection
/// looks for.
pub fn alias_groups(part: &Part) -> Vec<Vec<Alias>> {
    let mut out = Vec::new();
    for f in &part.fields {
        for leaf in &f.leaves {
            match &leaf.source {
                Source::Column { aliases, .. } => out.push(aliases.clone()),
                Source::Expr(e) => {
                    let mut e = e.clone();
                    e.visit_mut(&mut |n| {
                        if let Expr::Col { aliases, .. } = n {
                            out.push(
                                aliases
                                    .iter()
                                    .filter_map(|a| Alias::parse(a).ok())
                                    .collect(),
                            );
                        }
                    });
                }
                Source::Const(_) => {}
            }
        }
    }
    out
}

/// Field names of a part by table, for reports.
pub fn field_names(part: &Part) -> BTreeMap<&str, &Field> {
    part.fields.iter().map(|f| (f.name.as_str(), f)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Mapping, Diagnostics> {
        parse(text, Path::new("import.yaml"), Path::new("."), None)
    }

    #[test]
    fn a_small_mapping_loads() {
        let m = load(
            "version: 1\ntables:\n  - table: leads\n    file: amo.csv\n    columns:\n      lead_id: [ID, id]\n      created_at: {from: Дата создания, format: DD.MM.YYYY HH:MM}\n      email: Email\n      company_domain: {expr: domain(email)}\n",
        )
        .unwrap();
        let p = &m.parts[0];
        assert_eq!(p.table, TableName::Leads);
        assert_eq!(p.file.as_deref(), Some(Path::new("./amo.csv")));
        let names: Vec<&str> = p.order.iter().map(|&i| p.fields[i].name.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(pos("email") < pos("company_domain"), "{names:?}");
    }

    #[test]
    fn unknown_columns_and_missing_required_ones_are_errors() {
        let err = load(
            "version: 1\ntables:\n  - table: deals\n    columns:\n      deal_id: ID\n      created_at: Created\n      stage: Stage\n      stauts: Status\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(
                "import.yaml:8:7: error[E-MAPPING-COLUMN]: table deals has no column `stauts`"
            ),
            "{text}"
        );
        assert!(text.contains("did you mean `status`?"), "{text}");
        assert!(text.contains("E-MAPPING-REQUIRED"), "{text}");
    }

    #[test]
    fn expressions_are_checked_at_load() {
        let err = load(
            "version: 1\ntables:\n  - table: leads\n    columns:\n      lead_id: ID\n      created_at: Created\n      company_domain: {expr: domain(emial)}\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("`emial` is not a field"), "{err}");
        let err = load(
            "version: 1\ntables:\n  - table: leads\n    columns:\n      lead_id: {expr: lower(email)}\n      email: {expr: upper(lead_id)}\n      created_at: Created\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("E-MAPPING-CYCLE"), "{err}");
    }

    #[test]
    fn schema_errors_point_into_the_file() {
        let err = load(
            "version: 1\ntables:\n  - table: leads\n    columns:\n      lead_id: {from: ID, formt: x}\n      created_at: Created\n",
        )
        .unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.code, "E-SCHEMA-UNKNOWN-KEY", "{err}");
        assert_eq!(d.location.as_ref().unwrap().line, Some(5), "{err}");
        assert!(d.help.as_deref().unwrap_or("").contains("format"), "{err}");
    }

    #[test]
    fn value_maps_compare_loosely() {
        let m = load(
            "version: 1\ntables:\n  - table: deals\n    columns:\n      deal_id: ID\n      created_at: Created\n      stage: Stage\n      status: {from: Stage, map: {142: won, 'Закрыто и не реализовано': lost, 're:(^|:)WON$': won, '*': open}}\n",
        )
        .unwrap();
        let f = m.parts[0]
            .fields
            .iter()
            .find(|f| f.name == "status")
            .unwrap();
        let map = f.leaves[0].map.as_ref().unwrap();
        assert_eq!(map.get("142"), Some("won"));
        assert_eq!(map.get("  закрыто И не  реализовано"), Some("lost"));
        assert_eq!(map.get("C1:WON"), Some("won"));
        assert_eq!(map.get("Переговоры"), Some("open"));
    }
}
