//! Arbitrary `check` and `where` expressions evaluated over the tiny fixture
//! (`marqa::fuzzing::expr`), each rule under a 500 ms deadline.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use marqa::fuzzing::ExprWorld;

fn world() -> &'static ExprWorld {
    static W: OnceLock<ExprWorld> = OnceLock::new();
    W.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny");
        ExprWorld::new(&dir, Duration::from_millis(500))
    })
}

fuzz_target!(|data: &[u8]| marqa::fuzzing::expr(data, world()));
