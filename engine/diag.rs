//! Diagnostics: every error a user can act on names a place (file, line, column), has a
//! stable code, says what is wrong and what to do. One type for every layer, so the CLI
//! renders them all the same way and exits with code 2.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in an input file. Lines and columns are 1-based, as editors show them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }
    pub fn at(file: impl Into<PathBuf>, line: u64, column: u64) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// One problem with an input. `code` is stable (tests and docs refer to it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            location: None,
            message: message.into(),
            help: None,
        }
    }
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }
    pub fn in_file(self, file: &Path) -> Self {
        self.at(Location::file(file))
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        write!(f, "error[{}]: {}", self.code, self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Several diagnostics from one step (a table with many broken cells, a pack with many
/// bad rules). Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// The nearest of `candidates` to `word`, if it is close enough to be a likely typo.
/// Jaro-Winkler finds most; short words with two letters swapped (`mni` for `min`) are
/// too far for it, so one edit or transposition counts as close too.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            let jw = strsim::jaro_winkler(word, c);
            let one_edit = word.chars().count() >= 3 && strsim::osa_distance(word, c) == 1;
            (if one_edit { jw.max(0.85) } else { jw }, c)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["period", "currency", "timezone"];
        assert_eq!(did_you_mean("perod", keys), Some("period"));
        assert_eq!(did_you_mean("timezon", keys), Some("timezone"));
        assert_eq!(did_you_mean("xyz", keys), None);
        assert_eq!(did_you_mean("mni", ["max", "min"]), Some("min"));
        assert_eq!(did_you_mean("ab", ["ba"]), None);
    }

    #[test]
    fn renders_place_code_and_help() {
        let d = Diagnostic::new("E-TEST", "bad cell")
            .at(Location::at("leads.csv", 3, 2))
            .help("write a date like 2026-03-01");
        assert_eq!(
            d.to_string(),
            "leads.csv:3:2: error[E-TEST]: bad cell\n  help: write a date like 2026-03-01"
        );
    }
}
