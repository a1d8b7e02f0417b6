//! The manifest parser (YAML with positions, schema, resolution) on arbitrary text. Every
//! failure must be a diagnostic that names snapshot.yaml; nothing may panic or hang.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("snapshot.yaml");
    if let Err(diags) = marqa::snapshot::manifest::parse(text, file) {
        assert!(!diags.0.is_empty(), "an error without a diagnostic");
        for d in &diags.0 {
            let loc = d
                .location
                .as_ref()
                .expect("every manifest error names a place");
            assert_eq!(loc.file, file, "{d:?}");
        }
    }
});
