//! Presets: mapping files for common systems, embedded from `engine/import/presets/`.
//! `marqa import --print-preset NAME` prints one to adapt; an adapted copy is used with
//! `--preset ./my-amocrm.yaml exports/amo.xlsx` or as a `--mapping` with `file:` added.

use std::path::Path;

use super::mapping::{self, Mapping};
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};

pub struct Preset {
    pub name: &'static str,
    pub text: &'static str,
}

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "amocrm",
        text: include_str!("presets/amocrm.yaml"),
    },
    Preset {
        name: "bitrix24",
        text: include_str!("presets/bitrix24.yaml"),
    },
    Preset {
        name: "hubspot",
        text: include_str!("presets/hubspot.yaml"),
    },
    Preset {
        name: "yandex-direct",
        text: include_str!("presets/yandex-direct.yaml"),
    },
    Preset {
        name: "google-ads",
        text: include_str!("presets/google-ads.yaml"),
    },
    Preset {
        name: "calltouch",
        text: include_str!("presets/calltouch.yaml"),
    },
    Preset {
        name: "yandex-metrica",
        text: include_str!("presets/yandex-metrica.yaml"),
    },
    Preset {
        name: "generic",
        text: include_str!("presets/generic.yaml"),
    },
];

pub fn get(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

pub fn unknown(name: &str) -> Diagnostic {
    let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
    let d = Diagnostic::new("E-IMPORT-PRESET", format!("no preset named `{name}`"));
    match did_you_mean(name, names.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}`? Presets: {}", names.join(", "))),
        None => d.help(format!(
            "presets: {}; or pass a mapping file path (ending in .yaml)",
            names.join(", ")
        )),
    }
}

/// A preset (by name, or an adapted copy by path) bound to the export it reads.
pub fn load(name: &str, file: &Path) -> Result<Mapping, Diagnostics> {
    let is_path = name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/');
    let mut m = if is_path {
        mapping::load_file(Path::new(name))?
    } else {
        let p = get(name).ok_or_else(|| Diagnostics::from(unknown(name)))?;
        let label = format!("preset:{name}");
        mapping::parse(p.text, Path::new(&label), Path::new("."), Some(name))?
    };
    for part in &mut m.parts {
        if part.file.is_some() {
            return Err(Diagnostic::new(
                "E-IMPORT-PRESET",
                "this mapping names its own input files (`file:`)",
            )
            .at(m.doc.location(&m.path, &format!("{}/file", part.pointer)))
            .help("pass it with --mapping, or remove `file:` to use it as a preset")
            .into());
        }
        part.file = Some(file.to_path_buf());
    }
    if m.preset.is_none() {
        m.preset = Some(name.to_string());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_loads_and_names_itself() {
        for p in PRESETS {
            let m = load(p.name, Path::new("x.csv")).unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(
                m.name.as_deref(),
                Some(p.name),
                "preset {} has a different `name:`",
                p.name
            );
            assert!(!m.parts.is_empty());
            assert!(
                p.text.contains("references:"),
                "preset {} documents where its column names come from",
                p.name
            );
        }
    }

    #[test]
    fn unknown_presets_get_a_suggestion() {
        let d = unknown("amocmr");
        assert!(d.help.unwrap().contains("did you mean `amocrm`?"));
    }
}
