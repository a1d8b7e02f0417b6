//! YAML documents with positions. serde_yaml turns the text into values (with its limits on
//! alias expansion and nesting, so "billion laughs" files fail cleanly), and a second pass
//! over saphyr-parser's events records the line and column of every key and value by JSON
//! pointer. Schema and semantic errors found later can then point into the file.

use std::collections::HashMap;
use std::path::Path;

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde::Deserialize;

use crate::diag::{Diagnostic, Location};

pub mod scalar;

/// Largest YAML input accepted (manifests and rule files are small; this bounds memory).
pub const MAX_YAML_BYTES: usize = 8 * 1024 * 1024;

/// Line and column (1-based) of each node by JSON pointer (`/period/from`, `/goals/0/kpis`).
#[derive(Debug, Default, Clone)]
pub struct Positions {
    values: HashMap<String, (u64, u64)>,
    keys: HashMap<String, (u64, u64)>,
    /// How each scalar value is written (quoted, block…), to find characters inside it.
    styles: HashMap<String, scalar::Style>,
}

impl Positions {
    /// Where the value at `pointer` starts; falls back to the nearest enclosing node.
    pub fn value(&self, pointer: &str) -> Option<(u64, u64)> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.values.get(p) {
                return Some(*pos);
            }
            p = &p[..p.rfind('/')?];
        }
    }
    /// Where the key naming `pointer` is written (`/period/from` -> the `from:` key).
    pub fn key(&self, pointer: &str) -> Option<(u64, u64)> {
        self.keys
            .get(pointer)
            .copied()
            .or_else(|| self.value(pointer))
    }
}

/// One YAML document: its value as JSON (what schemas validate) and its positions.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: serde_json::Value,
    pub positions: Positions,
}

impl Document {
    /// A location in `file` for the node at `pointer`.
    pub fn location(&self, file: &Path, pointer: &str) -> Location {
        match self.positions.value(pointer) {
            Some((l, c)) => Location::at(file, l, c),
            None => Location::file(file),
        }
    }
    /// A location in `file` (whose text is `text`) for the character at `index` (in
    /// characters) of the string value at `pointer`: where that character is written,
    /// whatever the scalar's style. Falls back to the value's start.
    pub fn char_location(&self, file: &Path, text: &str, pointer: &str, index: usize) -> Location {
        let at = self.positions.values.get(pointer).copied();
        let style = self.positions.styles.get(pointer).copied();
        let value = self
            .value
            .pointer(pointer)
            .and_then(serde_json::Value::as_str);
        match (at, style, value) {
            (Some(start), Some(style), Some(v)) => {
                match scalar::char_position(text, start, style, v, index) {
                    Some((l, c)) => Location::at(file, l, c),
                    None => self.location(file, pointer),
                }
            }
            _ => self.location(file, pointer),
        }
    }
    pub fn key_location(&self, file: &Path, pointer: &str) -> Location {
        match self.positions.key(pointer) {
            Some((l, c)) => Location::at(file, l, c),
            None => Location::file(file),
        }
    }
}

/// Escape one JSON-pointer segment (RFC 6901).
pub fn pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Parse every document of a YAML text. Errors name the file, line and column.
pub fn parse_documents(text: &str, file: &Path) -> Result<Vec<Document>, Diagnostic> {
    if text.len() > MAX_YAML_BYTES {
        return Err(Diagnostic::new(
            "E-YAML-TOO-LARGE",
            format!(
                "{} bytes of YAML; the limit is {MAX_YAML_BYTES}",
                text.len()
            ),
        )
        .in_file(file)
        .help(
            "manifests and rule files are small; split the file or check that it is the right one",
        ));
    }
    // Positions first: the event pass is linear and stops at MAX_DEPTH, while the
    // deserializer slows down quadratically on pathological nesting before it refuses it.
    let positions = index_positions(text).map_err(|e| match e {
        Refused::TooDeep(line, col) => Diagnostic::new(
            "E-YAML-TOO-DEEP",
            format!("nesting deeper than {MAX_DEPTH} levels"),
        )
        .at(Location::at(file, line, col))
        .help("manifests and rules need only a few levels; this file is broken or hostile"),
        Refused::AliasBomb(line, col) => Diagnostic::new(
            "E-YAML-ALIAS-BOMB",
            format!("aliases here expand the document past {MAX_EXPANDED_NODES} nodes"),
        )
        .at(Location::at(file, line, col))
        .help("anchors and aliases (`&a`, `*a`) that repeat each other grow exponentially (\"billion laughs\"); write the values out"),
    })?;
    let mut values = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = serde_json::Value::deserialize(doc).map_err(|e| yaml_error(&e, file))?;
        values.push(v);
    }
    let docs = values
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .map(|(i, value)| Document {
            value,
            positions: positions.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(docs)
}

/// Parse a file that must hold exactly one document.
pub fn parse_single(text: &str, file: &Path) -> Result<Document, Diagnostic> {
    let mut docs = parse_documents(text, file)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        0 => Err(Diagnostic::new("E-YAML-EMPTY", "the file is empty").in_file(file)),
        n => Err(Diagnostic::new(
            "E-YAML-MANY",
            format!("{n} YAML documents where one was expected"),
        )
        .in_file(file)
        .help("remove the `---` separators")),
    }
}

fn yaml_error(e: &serde_yaml::Error, file: &Path) -> Diagnostic {
    let mut msg = e.to_string();
    // serde_yaml appends " at line L column C"; the location is shown in front instead.
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    let d = Diagnostic::new("E-YAML-SYNTAX", format!("invalid YAML: {msg}")).help(
        "check indentation and quoting near this place (a value with `: ` or `#` needs quotes)",
    );
    match e.location() {
        Some(loc) => d.at(Location::at(file, loc.line() as u64, loc.column() as u64)),
        None => d.in_file(file),
    }
}

enum Frame {
    Map {
        pointer: String,
        key: Option<String>,
    },
    Seq {
        pointer: String,
        index: usize,
    },
}

/// Deepest nesting accepted in a YAML document.
pub const MAX_DEPTH: usize = 64;

/// Most nodes a document may expand to once its aliases are replaced by what they name.
/// Manifests and rule files have a few thousand; an alias bomb has billions. Counting here
/// (rather than relying on serde_yaml's own repetition limit) gives the alias's position.
pub const MAX_EXPANDED_NODES: u64 = 100_000;

/// Why the event pass refused a document, with the line and column.
enum Refused {
    TooDeep(u64, u64),
    AliasBomb(u64, u64),
}

/// Positions of every document's nodes, from the parser's events. Best effort: a text
/// serde_yaml accepted but saphyr does not simply yields fewer positions. Fails with the
/// position where nesting passes `MAX_DEPTH`, or where an alias makes the document expand
/// past `MAX_EXPANDED_NODES`.
fn index_positions(text: &str) -> Result<Vec<Positions>, Refused> {
    let mut docs = Vec::new();
    let mut current = Positions::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Alias expansion: nodes of the document with aliases expanded, the expanded size of
    // each anchored node, and (anchor, count at start) for every open container.
    let mut expanded: u64 = 0;
    let mut anchor_size: HashMap<usize, u64> = HashMap::new();
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ev) => ev,
            // saphyr refuses flow nesting past 255 levels while scanning ahead.
            Err(e) if e.info().contains("recursion limit") => {
                return Err(Refused::TooDeep(
                    e.marker().line() as u64,
                    e.marker().col() as u64 + 1,
                ))
            }
            Err(_) => break,
        };
        let pos = (span.start.line() as u64, span.start.col() as u64 + 1);
        match &event {
            Event::Scalar(_, _, anchor, _) => {
                expanded += 1;
                if *anchor != 0 {
                    anchor_size.insert(*anchor, 1);
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                expanded += 1;
                open.push((*anchor, expanded));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((anchor, start)) = open.pop() {
                    if anchor != 0 {
                        anchor_size.insert(anchor, expanded - start + 1);
                    }
                }
            }
            Event::Alias(id) => {
                expanded = expanded.saturating_add(anchor_size.get(id).copied().unwrap_or(1));
                if expanded > MAX_EXPANDED_NODES {
                    return Err(Refused::AliasBomb(pos.0, pos.1));
                }
            }
            Event::DocumentStart(_) => {
                expanded = 0;
                open.clear();
            }
            _ => {}
        }
        match event {
            Event::DocumentStart(_) => {
                current = Positions::default();
                stack.clear();
            }
            Event::DocumentEnd => docs.push(std::mem::take(&mut current)),
            Event::Scalar(ref s, style, ..) => {
                if let Some(Frame::Map { pointer, key }) = stack.last_mut() {
                    if key.is_none() {
                        let p = format!("{pointer}/{}", pointer_segment(s));
                        current.keys.insert(p, pos);
                        *key = Some(s.to_string());
                        continue;
                    }
                }
                let p = child_pointer(&stack);
                current.styles.insert(
                    p.clone(),
                    match style {
                        ScalarStyle::Plain => scalar::Style::Plain,
                        ScalarStyle::SingleQuoted => scalar::Style::SingleQuoted,
                        ScalarStyle::DoubleQuoted => scalar::Style::DoubleQuoted,
                        ScalarStyle::Literal => scalar::Style::Literal,
                        ScalarStyle::Folded => scalar::Style::Folded,
                    },
                );
                current.values.insert(p, pos);
                advance(&mut stack);
            }
            Event::Alias(_) => {
                let p = child_pointer(&stack);
                current.values.insert(p, pos);
                advance(&mut stack);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    // A complex key: give up on positions inside it.
                    stack.push(Frame::Map {
                        pointer: "/\u{0}".into(),
                        key: None,
                    });
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Refused::TooDeep(pos.0, pos.1));
                }
                let pointer = child_pointer(&stack);
                current.values.insert(pointer.clone(), pos);
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map { pointer, key: None }
                } else {
                    Frame::Seq { pointer, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                advance(&mut stack);
            }
            _ => {}
        }
    }
    Ok(docs)
}

fn child_pointer(stack: &[Frame]) -> String {
    match stack.last() {
        None => String::new(),
        Some(Frame::Map { pointer, key }) => format!(
            "{pointer}/{}",
            pointer_segment(key.as_deref().unwrap_or(""))
        ),
        Some(Frame::Seq { pointer, index }) => format!("{pointer}/{index}"),
    }
}

/// A value finished: the enclosing map waits for its next key, a sequence moves on.
fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_point_at_keys_and_values() {
        let text =
            "version: 1\nperiod:\n  from: 2026-01-01\n  to: 2026-06-30\ngoals:\n  - {goal: growth, kpis: [revenue]}\n";
        let doc = parse_single(text, Path::new("s.yaml")).unwrap();
        assert_eq!(doc.value["period"]["from"], "2026-01-01");
        assert_eq!(doc.positions.value("/period/from"), Some((3, 9)));
        assert_eq!(doc.positions.key("/period/to"), Some((4, 3)));
        assert_eq!(doc.positions.value("/goals/0/kpis/0"), Some((6, 27)));
        // Unknown pointers fall back to the nearest parent.
        assert_eq!(
            doc.positions.value("/period/nope"),
            doc.positions.value("/period")
        );
    }

    #[test]
    fn several_documents_keep_their_own_positions() {
        let text = "id: a\nstep: goals\n---\nid: b\nstep: funnel\n";
        let docs = parse_documents(text, Path::new("r.yaml")).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].positions.value("/step"), Some((5, 7)));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse_documents("a: 1\nb: [1, 2\n", Path::new("bad.yaml")).unwrap_err();
        assert_eq!(err.code, "E-YAML-SYNTAX");
        let loc = err.location.unwrap();
        assert_eq!(loc.file, Path::new("bad.yaml"));
        assert!(loc.line.is_some());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9u8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            text.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = parse_documents(&text, Path::new("bomb.yaml")).unwrap_err();
        assert_eq!(err.code, "E-YAML-ALIAS-BOMB");
        // Each level is 9 aliases of the one before: l3 (line 5) expands to about 66,000
        // nodes, the document so far to about 75,000, so the first `*l3` of line 6
        // (column 10, after `l4: &l4 [`) passes the 100,000 bound.
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (Some(6), Some(10)), "{err:?}");
    }

    #[test]
    fn a_few_aliases_are_fine() {
        let text = "base: &b {a: 1, b: 2}\nx: *b\ny: [*b, *b]\n";
        let doc = parse_single(text, Path::new("ok.yaml")).unwrap();
        assert_eq!(doc.value["y"][1]["b"], 2);
    }
}
