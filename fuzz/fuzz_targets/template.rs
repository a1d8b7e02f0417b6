//! Rule-text templates and every report format rendered with arbitrary data
//! (`marqa::fuzzing::template`).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use marqa::fuzzing::TemplateWorld;

fn world() -> &'static TemplateWorld {
    static W: OnceLock<TemplateWorld> = OnceLock::new();
    W.get_or_init(|| {
        TemplateWorld::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny"))
    })
}

fuzz_target!(|data: &[u8]| marqa::fuzzing::template(data, world()));
