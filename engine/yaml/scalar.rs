//! Where each character of a scalar's value is written in the file. A problem found inside
//! a value (a typo in a `check` expression, an unknown variable in a template) is reported
//! at the character where the user typed it, whatever the scalar's style: plain, single or
//! double quoted (escapes such as `\"` or `\n` make the value shorter than the source),
//! literal `|` or folded `>` (the value's second line is a later line of the file, after
//! the indentation).
//!
//! The scalar is decoded again from the source text, remembering where each character came
//! from, and the result is compared with the value the YAML parser produced: if they differ
//! (a style this decoder gets wrong, a tag or an anchor in front), the caller falls back to
//! the scalar's start, so a position is never wrong, at worst less precise.

/// A decoded character and where it is written: (line, column), both 1-based, columns in
/// characters as editors count them.
type Placed = (char, (u64, u64));

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`
    Literal,
    /// `>`
    Folded,
}

/// The position in the file of the character at `index` (in characters) of the scalar
/// `value` written in `style` and starting at (`line`, `col`) of `text`: its quote, its
/// first letter, or for block scalars the first character of its first line of content (as
/// the parser reports it). `index == value.chars().count()` is the place just after the
/// value (an error "at the end"). None when the source does not decode to `value`.
pub fn char_position(
    text: &str,
    (line, col): (u64, u64),
    style: Style,
    value: &str,
    index: usize,
) -> Option<(u64, u64)> {
    let lines: Vec<Vec<char>> = text
        .lines()
        .skip(line.checked_sub(1)? as usize)
        .map(|l| l.chars().collect())
        .collect();
    let c0 = col.checked_sub(1)? as usize;
    let want: Vec<char> = value.chars().collect();
    let placed = match style {
        Style::SingleQuoted | Style::DoubleQuoted => quoted(&lines, c0)?,
        Style::Literal => block(&lines, c0, false),
        Style::Folded => block(&lines, c0, true),
        Style::Plain => plain(&lines, c0, want.len()),
    };
    let got: Vec<char> = placed.iter().map(|p| p.0).collect();
    // Block scalars' chomping (`|-`, `|+`) only changes the final line breaks.
    let trim = |s: &[char]| s.len() - s.iter().rev().take_while(|c| **c == '\n').count();
    let (n_got, n_want) = (trim(&got), trim(&want));
    if got[..n_got] != want[..n_want] {
        return None;
    }
    let to_file = |(l, c): (u64, u64)| (l + line - 1, c);
    match placed.get(index) {
        Some((_, p)) => Some(to_file(*p)),
        None => {
            let (_, (l, c)) = placed.last()?;
            Some(to_file((*l, c + 1)))
        }
    }
}

/// Positions relative to the scalar's first line: line 1 is that line.
fn at(l: usize, c: usize) -> (u64, u64) {
    (l as u64 + 1, c as u64 + 1)
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A line break inside a flow scalar (quoted or plain): trailing blanks before it are
/// dropped; with no empty line after it, it becomes a space, else each empty line becomes
/// a line break. Leading blanks of the continuation line are dropped. Returns where the
/// text goes on: (line, column).
fn fold(
    lines: &[Vec<char>],
    out: &mut Vec<Placed>,
    trailing: &mut Option<usize>,
    l: usize,
) -> Option<(usize, usize)> {
    if let Some(t) = trailing.take() {
        out.truncate(t);
    }
    let break_at = at(l, lines[l].len());
    let mut next = l + 1;
    let mut empty = 0;
    while lines.get(next)?.iter().all(|c| is_blank(*c)) {
        empty += 1;
        next += 1;
    }
    if empty == 0 {
        out.push((' ', break_at));
    } else {
        for i in 0..empty {
            out.push(('\n', at(l + 1 + i, 0)));
        }
    }
    let indent = lines[next].iter().take_while(|c| is_blank(**c)).count();
    Some((next, indent))
}

fn quoted(lines: &[Vec<char>], c0: usize) -> Option<Vec<Placed>> {
    let quote = *lines.first()?.get(c0)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let mut out = Vec::new();
    // Where a run of unescaped blanks at the end of the current line starts in `out`.
    let mut trailing: Option<usize> = None;
    let (mut l, mut c) = (0usize, c0 + 1);
    loop {
        let line = lines.get(l)?;
        let Some(&ch) = line.get(c) else {
            (l, c) = fold(lines, &mut out, &mut trailing, l)?;
            continue;
        };
        let here = at(l, c);
        if ch == quote {
            if quote == '\'' && line.get(c + 1) == Some(&'\'') {
                out.push(('\'', here));
                trailing = None;
                c += 2;
                continue;
            }
            return Some(out);
        }
        if quote == '"' && ch == '\\' {
            let Some(&e) = line.get(c + 1) else {
                // An escaped line break: nothing, and the next line's indentation goes too.
                trailing = None;
                l += 1;
                c = lines.get(l)?.iter().take_while(|c| is_blank(**c)).count();
                continue;
            };
            let (decoded, len) = match e {
                'x' => (hex(line, c + 2, 2)?, 4),
                'u' => (hex(line, c + 2, 4)?, 6),
                'U' => (hex(line, c + 2, 8)?, 10),
                _ => (escape(e)?, 2),
            };
            out.push((decoded, here));
            trailing = None;
            c += len;
            continue;
        }
        if is_blank(ch) {
            trailing.get_or_insert(out.len());
        } else {
            trailing = None;
        }
        out.push((ch, here));
        c += 1;
    }
}

fn hex(line: &[char], from: usize, n: usize) -> Option<char> {
    let digits: String = line.get(from..from + n)?.iter().collect();
    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
}

/// The character a one-letter escape of a double-quoted scalar stands for.
fn escape(e: char) -> Option<char> {
    Some(match e {
        '0' => '\0',
        'a' => '\x07',
        'b' => '\x08',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\x0b',
        'f' => '\x0c',
        'r' => '\r',
        'e' => '\x1b',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        _ => return None,
    })
}

/// A plain scalar: its text folded like a quoted one, up to `len` characters (where it ends
/// is the parser's business; the comparison with the value checks the rest).
fn plain(lines: &[Vec<char>], c0: usize, len: usize) -> Vec<Placed> {
    let mut out = Vec::new();
    let mut trailing = None;
    let (mut l, mut c) = (0usize, c0);
    while out.len() < len {
        let Some(line) = lines.get(l) else { break };
        let Some(&ch) = line.get(c) else {
            match fold(lines, &mut out, &mut trailing, l) {
                Some(next) => (l, c) = next,
                None => break,
            }
            continue;
        };
        if is_blank(ch) {
            trailing.get_or_insert(out.len());
        } else {
            trailing = None;
        }
        out.push((ch, at(l, c)));
        c += 1;
    }
    out
}

/// A literal (`|`) or folded (`>`) block scalar whose content starts on the first line at
/// column `indent` (0-based): its lines are those indented at least as much, and the empty
/// ones between them.
fn block(lines: &[Vec<char>], indent: usize, folded: bool) -> Vec<Placed> {
    // Content lines: (line number, text after the indentation; empty for blank lines).
    let mut content: Vec<(usize, &[char])> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let spaces = line.iter().take_while(|c| **c == ' ').count();
        if line.iter().all(|c| is_blank(*c)) {
            content.push((i, &[]));
        } else if spaces >= indent {
            content.push((i, &line[indent..]));
        } else {
            break;
        }
    }
    let mut out = Vec::new();
    let mut k = 0;
    while k < content.len() {
        let (l, text) = content[k];
        for (i, ch) in text.iter().enumerate() {
            out.push((*ch, at(l, indent + i)));
        }
        let break_at = at(l, indent + text.len());
        // A folded scalar joins two "normal" lines (not empty, not more indented) with a
        // space, or with one line break per empty line between them.
        let normal = |t: &[char]| !t.is_empty() && !is_blank(t[0]);
        let mut next = k + 1;
        while next < content.len() && content[next].1.is_empty() {
            next += 1;
        }
        if folded && normal(text) && next < content.len() && normal(content[next].1) {
            if next == k + 1 {
                out.push((' ', break_at));
            } else {
                for (el, _) in &content[k + 1..next] {
                    out.push(('\n', at(*el, 0)));
                }
            }
            k = next;
        } else {
            out.push(('\n', break_at));
            k += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;
    use std::path::Path;

    /// Where `needle` (its first occurrence in the value at `ptr`) is written in `text`.
    fn find(text: &str, ptr: &str, needle: &str) -> Option<(u64, u64)> {
        let doc = parse_single(text, Path::new("t.yaml")).unwrap();
        let value = doc
            .value
            .pointer(ptr)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let byte = value.find(needle).expect("needle in value");
        let index = value[..byte].chars().count();
        let l = doc.char_location(Path::new("t.yaml"), text, ptr, index);
        Some((l.line?, l.column?))
    }

    /// The (line, column) of `marker` in `text`, as an editor shows it.
    fn mark(text: &str, marker: &str) -> (u64, u64) {
        let byte = text.find(marker).unwrap();
        let line = text[..byte].matches('\n').count() as u64 + 1;
        let start = text[..byte].rfind('\n').map_or(0, |i| i + 1);
        (line, text[start..byte].chars().count() as u64 + 1)
    }

    #[test]
    fn double_quoted_escapes_shift_the_columns() {
        let text = "id: a\ncheck: \"metric(\\\"leads\\\") > 0 && \\\"x\\\" != \\\"y\\\" && lead_typo > 1\"\n";
        assert_eq!(
            find(text, "/check", "lead_typo"),
            Some(mark(text, "lead_typo"))
        );
        // Escapes that stand for other characters, and non-ASCII text before the typo.
        let text = "check: \"\\u00e9\\t\\x41 ёж && typo\"\n";
        assert_eq!(find(text, "/check", "typo"), Some(mark(text, "typo")));
    }

    #[test]
    fn single_quoted_and_plain() {
        let text = "check: 'it''s a ''x'' && typo'\n";
        assert_eq!(find(text, "/check", "typo"), Some(mark(text, "typo")));
        let text = "check: ltv_cac >= params.min && typo\n";
        assert_eq!(find(text, "/check", "typo"), Some(mark(text, "typo")));
        // A plain scalar folded over lines.
        let text = "check: ltv_cac >= 3\n  && romi > 1\n\n  && typo\nnext: 1\n";
        assert_eq!(find(text, "/check", "typo"), Some(mark(text, "typo")));
        // A quoted one too, with trailing blanks before the break.
        let text = "check: \"ltv_cac >= 3   \n    && typo\"\n";
        assert_eq!(find(text, "/check", "typo"), Some(mark(text, "typo")));
    }

    #[test]
    fn block_scalars_point_at_the_line_of_the_typo() {
        let text = "id: a\ncheck: |\n  ltv_cac >= 3\n\n    && typo > 1\nnext: 1\n";
        assert_eq!(find(text, "/check", "typo"), Some(mark(text, "typo")));
        let text = "id: a\ncheck: >-\n  ltv_cac >= 3\n  && romi > 1\n\n  && typo > 1\n";
        assert_eq!(find(text, "/check", "typo"), Some(mark(text, "typo")));
        let text = "rows:\n  where: |+ # comment\n    a &&\n      typo\n\nnext: 1\n";
        assert_eq!(find(text, "/rows/where", "typo"), Some(mark(text, "typo")));
        // In a sequence.
        let text = "- check: |\n    ltv_cac\n      && typo\n";
        assert_eq!(find(text, "/0/check", "typo"), Some(mark(text, "typo")));
    }

    #[test]
    fn the_end_of_the_value_and_mismatches() {
        let text = "check: \"a +\"\n";
        let dq = Style::DoubleQuoted;
        assert_eq!(char_position(text, (1, 8), dq, "a +", 3), Some((1, 12)));
        // A value the source does not decode to: no position rather than a wrong one.
        assert_eq!(char_position(text, (1, 8), dq, "b +", 0), None);
        assert_eq!(char_position(text, (9, 1), dq, "a +", 0), None);
    }

    proptest::proptest! {
        /// Any value written in any style: every character's position holds that character
        /// (or the backslash of its escape).
        #[test]
        fn every_character_is_found_where_it_is_written(
            value in "[a-z][a-zA-Z0-9 _.\"'\\\\\t()ёж#:-]{0,40}",
            style in 0..3usize,
        ) {
            let value = value.trim_end().to_string();
            let text = match style {
                0 => format!("k: {}\n", serde_json::to_string(&value).unwrap()),
                1 => format!("k: '{}'\n", value.replace('\'', "''")),
                _ => format!("k: |-\n  {}\n", value),
            };
            let doc = parse_single(&text, Path::new("t.yaml")).unwrap();
            proptest::prop_assert_eq!(doc.value["k"].as_str(), Some(value.as_str()));
            let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
            for (i, ch) in value.chars().enumerate() {
                let l = doc.char_location(Path::new("t.yaml"), &text, "/k", i);
                let (line, col) = (l.line.unwrap() as usize, l.column.unwrap() as usize);
                let at = lines[line - 1][col - 1];
                proptest::prop_assert!(at == ch || (style == 0 && at == '\\'), "{i}: {at:?} for {ch:?} in {text:?}");
            }
        }
    }
}
