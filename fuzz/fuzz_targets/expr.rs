//! Rule evaluation of arbitrary `check` and `where` expressions over the tiny fixture
//! snapshot and its real metrics store. The input's first line is a `check` expression,
//! the rest a `where` predicate over the leads table. A rule either fails to load with a
//! diagnostic, or evaluates to findings (an expression that throws or exceeds a sandbox
//! bound is an `error` finding naming the rule); nothing may panic or run past the
//! rule's deadline.
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use marqa::eval::finding::Status;
use marqa::eval::{self, Input, Options, RunCtx};
use marqa::rules::load::{parse_file, FileCtx};
use marqa::snapshot::{LoadOptions, Snapshot};

const LIMIT: Duration = Duration::from_millis(500);

struct World {
    ctx: Arc<RunCtx>,
    engine: rhai::Engine,
    templates: minijinja::Environment<'static>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny");
        let snap = Snapshot::load(&dir, LoadOptions::default()).expect("the fixture loads");
        let store = eval::metrics_store(&snap).expect("metrics");
        let input = Input {
            snapshot: Arc::new(snap),
            store: Arc::new(store),
        };
        let mut options = Options::default();
        options.limits.time_limit = LIMIT;
        let ctx = Arc::new(RunCtx::new(&input, &options));
        let engine = eval::script::engine(ctx.clone());
        World {
            ctx,
            engine,
            templates: marqa::rules::texts::environment(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (check, predicate) = text.split_once('\n').unwrap_or((text, "true"));
    let q = |s: &str| serde_json::to_string(s).unwrap();
    let rules = format!(
        "{{\"id\": \"fuzz.check\", \"step\": \"data_sources\", \"severity\": \"info\", \"title\": \"check\", \"check\": {}}}\n---\n\
         {{\"id\": \"fuzz.rows\", \"step\": \"data_sources\", \"severity\": \"info\", \"title\": \"rows\", \"params\": {{\"max_count\": 0}}, \"rows\": {{\"table\": \"leads\", \"where\": {}}}}}\n",
        q(check),
        q(predicate)
    );
    let w = world();
    let read = |rel: &str| -> Result<(std::path::PathBuf, String), String> {
        Err(format!("no file {rel}"))
    };
    let cx = FileCtx {
        pack: "fuzz",
        read: &read,
        engine: &w.engine,
        templates: &w.templates,
    };
    let file = Path::new("fuzz.yaml");
    let (rules, errors) = parse_file(&rules, file, &cx);
    for d in &errors {
        let loc = d.location.as_ref().expect("a rule error names a place");
        assert_eq!(loc.file, file, "{d:?}");
    }
    for rule in &rules {
        let t = Instant::now();
        let findings = eval::evaluate_rule(rule, &w.ctx, &w.engine);
        let took = t.elapsed();
        // The deadline is checked every few hundred operations; allow generous slack for
        // a loaded machine, but not an unbounded run.
        assert!(took < LIMIT * 6, "{} ran {took:?}", rule.id);
        assert!(!findings.is_empty());
        for f in &findings {
            if f.status == Status::Error {
                let m = f.message.as_deref().unwrap_or("");
                assert!(
                    m.starts_with(&format!("rule `{}` (fuzz.yaml:", rule.id)),
                    "{m}"
                );
            }
        }
    }
});
