//! Text helpers the importer shares: header names compared the way people read them
//! (case, `ё`/`е` and runs of whitespace do not matter), and ASCII ids made from labels
//! (`Первичный контакт` → `pervichnyy_kontakt`) for stage ids and channel names.

/// A header or map key reduced to what matters: lowercase, `ё` as `е`, any run of
/// whitespace (spaces, no-break spaces, tabs, line breaks) as one space, trimmed, no BOM.
pub fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.trim_start_matches('\u{feff}').chars() {
        if ch.is_whitespace() || ch == '\u{a0}' || ch == '\u{202f}' {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match ch {
            'ё' | 'Ё' => out.push('е'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Whether `raw` normalizes to `normed` (see [`norm`]), without allocating: what the
/// per-cell checks (null markers) use.
pub fn norm_eq(raw: &str, normed: &str) -> bool {
    let mut want = normed.chars();
    let mut space = false;
    let mut started = false;
    for ch in raw.trim_start_matches('\u{feff}').chars() {
        if ch.is_whitespace() || ch == '\u{a0}' || ch == '\u{202f}' {
            space = started;
            continue;
        }
        if space {
            if want.next() != Some(' ') {
                return false;
            }
            space = false;
        }
        started = true;
        let lowered: &mut dyn Iterator<Item = char> = match ch {
            'ё' | 'Ё' => &mut std::iter::once('е'),
            c => &mut c.to_lowercase(),
        };
        for l in lowered {
            if want.next() != Some(l) {
                return false;
            }
        }
    }
    want.next().is_none()
}

/// An ASCII snake_case id for a label: Cyrillic transliterated (a simple, readable
/// scheme, not a standard one), anything else not alphanumeric becomes `_`.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
            continue;
        }
        match translit(ch) {
            Some(t) => out.push_str(t),
            None => {
                if !out.ends_with('_') {
                    out.push('_');
                }
            }
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        // A label with no letters we can spell (emoji, CJK): a stable id from its bytes.
        return format!("s_{:08x}", crate::eval::keys::fnv1a(s.as_bytes()) as u32);
    }
    let mut id = trimmed.to_string();
    if id.as_bytes()[0].is_ascii_digit() {
        id.insert(0, 's');
        id.insert(1, '_');
    }
    id
}

fn translit(ch: char) -> Option<&'static str> {
    Some(match ch {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'й' | 'ы' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ю' => "yu",
        'я' => "ya",
        'і' => "i",
        'ї' => "yi",
        'є' => "ye",
        'ґ' => "g",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_compare_loosely() {
        assert_eq!(norm("  Дата\u{a0}создания \n"), "дата создания");
        assert_eq!(norm("\u{feff}ID"), "id");
        assert_eq!(norm("Счёт  Выставлен"), "счет выставлен");
        assert_eq!(norm("UTM\tSource"), "utm source");
        for (raw, normed) in [
            ("  Дата\u{a0}создания \n", "дата создания"),
            ("--", "--"),
            ("Н/Д", "н/д"),
            ("Счёт", "счет"),
        ] {
            assert!(norm_eq(raw, normed), "{raw}");
            assert_eq!(norm(raw), normed);
        }
        assert!(!norm_eq("--x", "--"));
        assert!(!norm_eq("-", "--"));
        assert!(!norm_eq("a b", "ab"));
    }

    #[test]
    fn slugs_are_readable_ascii() {
        assert_eq!(slug("Первичный контакт"), "pervichnyy_kontakt");
        assert_eq!(slug("Встреча/демо"), "vstrecha_demo");
        assert_eq!(slug("КП"), "kp");
        assert_eq!(slug("Closed - won"), "closed_won");
        assert_eq!(slug("C1:PREPARATION"), "c1_preparation");
        assert_eq!(slug("41235"), "s_41235");
        assert!(slug("✓✓").starts_with("s_"));
        assert_eq!(slug("✓✓"), slug("✓✓"));
    }
}
