//! The Rhai sandbox. Rhai's defaults are unbounded, so every limit is set here, in one
//! place, for every engine marqa builds (the compiler at load and the evaluator at run):
//!
//! - operations per evaluation, call depth, expression depth, string / array / map sizes,
//!   variables, functions;
//! - no modules (`import` fails at run time: no resolver, and a module limit of zero),
//!   no `eval`, no clock (`timestamp()`), no `sleep`, `print` and `debug` go nowhere;
//! - strict variables: a name the scope does not declare is a compile error (that is how an
//!   unknown metric in a `check` becomes a load error with a did-you-mean);
//! - a wall-clock deadline per rule, checked every 1 024 operations and between rows. It is
//!   the one sanctioned use of a monotonic clock: it stops a rule that runs too long and
//!   never changes the result of a rule that finishes.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::module_resolvers::DummyModuleResolver;
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicFnPackage, BasicIteratorPackage, BasicMapPackage,
    BasicMathPackage, BasicStringPackage, BitFieldPackage, LogicPackage, MoreStringPackage,
    Package,
};
use rhai::{Dynamic, Engine, EvalAltResult, OptimizationLevel, Scope, AST};

/// The bounds of one rule's evaluation. `Default` is what `marqa check` uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Rhai operations per evaluation (an expression, a row predicate, a script run).
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_fn_expr_depth: usize,
    /// Bytes.
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    pub max_variables: usize,
    pub max_functions: usize,
    /// Wall time per rule (all its groups and rows together).
    pub time_limit: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // ~4 s at Rhai's ~25 M simple operations per second: the deadline usually
            // fires first; this bound is the deterministic backstop.
            max_operations: 100_000_000,
            max_call_levels: 48,
            max_expr_depth: 64,
            max_fn_expr_depth: 32,
            max_string_size: 1 << 20,
            // A script may read one column of a million-row table.
            max_array_size: 2_000_000,
            max_map_size: 100_000,
            max_variables: 1_000,
            max_functions: 200,
            time_limit: Duration::from_secs(3),
        }
    }
}

/// The functions of Rhai's standard library marqa allows: everything but the clock
/// (`timestamp`), `sleep`, `exit` and the blob/time packages. Built once; engines share it.
fn library() -> &'static [rhai::Shared<rhai::Module>] {
    static LIB: std::sync::OnceLock<Vec<rhai::Shared<rhai::Module>>> = std::sync::OnceLock::new();
    LIB.get_or_init(|| {
        vec![
            ArithmeticPackage::new().as_shared_module(),
            BasicStringPackage::new().as_shared_module(),
            BasicIteratorPackage::new().as_shared_module(),
            BasicFnPackage::new().as_shared_module(),
            LogicPackage::new().as_shared_module(),
            BasicMathPackage::new().as_shared_module(),
            BitFieldPackage::new().as_shared_module(),
            BasicArrayPackage::new().as_shared_module(),
            BasicMapPackage::new().as_shared_module(),
            MoreStringPackage::new().as_shared_module(),
        ]
    })
}

thread_local! {
    /// The deadline of the rule evaluating on this thread. Rules evaluate synchronously on
    /// one thread each, so a thread-local is exactly "the current rule's deadline".
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The token `on_progress` stops an evaluation with when the deadline has passed.
const TIME_UP: &str = "marqa:time-limit";

/// A sandboxed engine with every limit set.
pub fn engine(limits: &Limits) -> Engine {
    let mut e = Engine::new_raw();
    for m in library() {
        e.register_global_module(m.clone());
    }
    e.set_module_resolver(DummyModuleResolver::new());
    e.set_max_modules(0);
    e.disable_symbol("eval");
    e.set_strict_variables(true);
    e.set_fail_on_invalid_map_property(true);
    e.set_max_operations(limits.max_operations);
    e.set_max_call_levels(limits.max_call_levels);
    e.set_max_expr_depths(limits.max_expr_depth, limits.max_fn_expr_depth);
    e.set_max_string_size(limits.max_string_size);
    e.set_max_array_size(limits.max_array_size);
    e.set_max_map_size(limits.max_map_size);
    e.set_max_variables(limits.max_variables);
    e.set_max_functions(limits.max_functions);
    e.set_optimization_level(OptimizationLevel::Simple);
    e.on_print(|_| {});
    e.on_debug(|_, _, _| {});
    e.on_progress(|ops| {
        if ops & 0x3ff == 0 && deadline_passed() {
            Some(Dynamic::from(TIME_UP))
        } else {
            None
        }
    });
    e
}

/// Run `f` with the deadline `limit` from now on this thread (restored afterwards, so a
/// nested call cannot extend an outer deadline).
pub fn with_deadline<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let deadline = Instant::now().checked_add(limit);
    let outer = DEADLINE.with(|d| d.replace(deadline));
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DEADLINE.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(outer);
    f()
}

/// Whether the current rule's deadline has passed (for native loops: check every few
/// thousand rows).
pub fn deadline_passed() -> bool {
    DEADLINE.with(|d| d.get().is_some_and(|d| Instant::now() >= d))
}

/// Compile an expression whose free variables must be among `names` (strict variables).
pub fn compile_expression(
    engine: &Engine,
    names: &[&str],
    source: &str,
) -> Result<AST, rhai::ParseError> {
    engine.compile_expression_with_scope(&declare(names), source)
}

/// Compile a script whose free variables must be among `names`.
pub fn compile_script(
    engine: &Engine,
    names: &[&str],
    source: &str,
) -> Result<AST, rhai::ParseError> {
    engine.compile_with_scope(&declare(names), source)
}

fn declare(names: &[&str]) -> Scope<'static> {
    let mut scope = Scope::new();
    for n in names {
        // Plain (not constant) so the optimizer cannot fold a value in at compile time.
        scope.push_dynamic(n.to_string(), Dynamic::UNIT);
    }
    scope
}

/// A Rhai error as one line for a finding: which bound was hit, or what was thrown.
pub fn describe(err: &EvalAltResult, limits: &Limits) -> String {
    use EvalAltResult as E;
    match err {
        E::ErrorTerminated(token, _)
            if token.clone().into_string().ok().as_deref() == Some(TIME_UP) =>
        {
            format!(
                "exceeded the time limit of {} per rule",
                human_duration(limits.time_limit)
            )
        }
        E::ErrorTooManyOperations(_) => {
            format!("exceeded the limit of {} operations", limits.max_operations)
        }
        E::ErrorStackOverflow(_) => format!(
            "exceeded the call depth limit of {} (runaway recursion?)",
            limits.max_call_levels
        ),
        E::ErrorDataTooLarge(what, _) => {
            let limit = match what.as_str() {
                s if s.contains("string") || s.contains("String") => {
                    format!("{} bytes", limits.max_string_size)
                }
                s if s.contains("array") || s.contains("Array") => {
                    format!("{} items", limits.max_array_size)
                }
                s if s.contains("map") || s.contains("Map") => {
                    format!("{} keys", limits.max_map_size)
                }
                _ => "the limit".to_string(),
            };
            format!("{what} exceeded the sandbox limit of {limit}")
        }
        E::ErrorTooManyModules(_) | E::ErrorModuleNotFound(..) => {
            "scripts cannot import modules or read files".to_string()
        }
        E::ErrorTooManyVariables(_) => {
            format!("exceeded the limit of {} variables", limits.max_variables)
        }
        E::ErrorRuntime(v, pos) => {
            let at = if pos.is_none() {
                String::new()
            } else {
                format!(" ({pos})")
            };
            format!("threw: {v}{at}")
        }
        other => other.to_string(),
    }
}

/// Rhai checks a map's size when it passes through a function call or is returned, but not
/// when a key is added by index assignment (`m[k] = v`). After a script finishes, its
/// top-level variables are measured too, so a script that built an oversized value in a
/// loop fails like one that passed it to a function. (A value built and dropped inside a
/// function is bounded by the operation limit and the deadline.)
pub fn oversized(scope: &rhai::Scope, limits: &Limits) -> Option<String> {
    for (name, _, value) in scope.iter_raw() {
        let (arr, map, s) = sizes(value, 0);
        let over = if s > limits.max_string_size {
            Some(format!(
                "strings of {s} bytes; the sandbox limit is {}",
                limits.max_string_size
            ))
        } else if arr > limits.max_array_size {
            Some(format!(
                "arrays of {arr} items; the sandbox limit is {}",
                limits.max_array_size
            ))
        } else if map > limits.max_map_size {
            Some(format!(
                "maps of {map} keys; the sandbox limit is {}",
                limits.max_map_size
            ))
        } else {
            None
        };
        if let Some(o) = over {
            return Some(format!("variable `{name}` holds {o}"));
        }
    }
    None
}

/// (array items, map keys, string bytes) inside a value, as Rhai counts them.
fn sizes(v: &Dynamic, depth: usize) -> (usize, usize, usize) {
    if depth > 64 {
        return (0, 0, 0);
    }
    if v.is_shared() {
        return match v.read_lock::<Dynamic>() {
            Some(inner) if !inner.is_shared() => sizes(&inner, depth + 1),
            _ => (0, 0, 0),
        };
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        return a.iter().fold((a.len(), 0, 0), |(x, y, z), e| {
            let (a2, m2, s2) = sizes(e, depth + 1);
            (x + a2, y + m2, z + s2)
        });
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        return m.values().fold((0, m.len(), 0), |(x, y, z), e| {
            let (a2, m2, s2) = sizes(e, depth + 1);
            (x + a2, y + m2, z + s2)
        });
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return (0, 0, s.len());
    }
    (0, 0, 0)
}

/// `3 s`, `500 ms`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, limits: &Limits) -> Result<Dynamic, String> {
        let e = engine(limits);
        let ast = compile_script(&e, &[], src).map_err(|e| e.to_string())?;
        with_deadline(limits.time_limit, || {
            e.eval_ast::<Dynamic>(&ast)
                .map_err(|err| describe(&err, limits))
        })
    }

    fn quick() -> Limits {
        Limits {
            time_limit: Duration::from_millis(300),
            ..Limits::default()
        }
    }

    #[test]
    fn ordinary_scripts_run() {
        assert_eq!(run("let x = 40; x + 2", &quick()).unwrap().as_int(), Ok(42));
    }

    #[test]
    fn an_endless_loop_hits_the_deadline() {
        let t = Instant::now();
        let err = run("loop {}", &quick()).unwrap_err();
        // Whichever bound comes first on this machine: both stop the loop.
        assert!(
            err.contains("time limit of 300 ms") || err.contains("operations"),
            "{err}"
        );
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn operations_are_bounded_without_a_deadline() {
        let l = Limits {
            max_operations: 10_000,
            time_limit: Duration::from_secs(60),
            ..Limits::default()
        };
        let err = run("let i = 0; while true { i += 1; }", &l).unwrap_err();
        assert!(err.contains("10000 operations"), "{err}");
    }

    #[test]
    fn recursion_strings_and_maps_are_bounded() {
        let err = run("fn f(x) { f(x + 1) } f(0)", &quick()).unwrap_err();
        assert!(err.contains("call depth"), "{err}");
        let err = run("let s = \"x\"; loop { s += s; }", &quick()).unwrap_err();
        assert!(
            err.contains("exceeded the sandbox limit of 1048576 bytes"),
            "{err}"
        );
        let l = Limits {
            max_map_size: 1_000,
            ..quick()
        };
        // Rhai checks a map's size when it passes through a function call or a return...
        let err = run(
            "let m = #{}; for i in 0..1000000 { m[`k${i}`] = i; m.len(); }",
            &l,
        )
        .unwrap_err();
        assert!(err.contains("1000 keys"), "{err}");
        // ...but not on index assignment: a loop that runs to the end is caught after the
        // script by measuring its variables, one that does not by the deadline.
        let e = engine(&l);
        let ast =
            compile_script(&e, &[], "let m = #{}; for i in 0..5000 { m[`k${i}`] = i; }").unwrap();
        let mut scope = Scope::new();
        with_deadline(l.time_limit, || e.run_ast_with_scope(&mut scope, &ast)).unwrap();
        assert_eq!(
            oversized(&scope, &l).as_deref(),
            Some("variable `m` holds maps of 5000 keys; the sandbox limit is 1000")
        );
        let t = Instant::now();
        let err = run("let m = #{}; for i in 0..100000000 { m[`k${i}`] = i; }", &l).unwrap_err();
        assert!(err.contains("time limit"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn no_imports_no_eval_no_clock() {
        let err = run("import \"/etc/passwd\" as p; 1", &quick()).unwrap_err();
        assert!(err.contains("cannot import"), "{err}");
        assert!(run("eval(\"1\")", &quick()).is_err());
        assert!(run("timestamp()", &quick()).is_err());
        assert!(run("sleep(10)", &quick()).is_err());
    }

    #[test]
    fn strict_variables_reject_unknown_names() {
        let e = engine(&Limits::default());
        assert!(compile_expression(&e, &["ltv_cac", "params"], "ltv_cac >= 3").is_ok());
        let err = compile_expression(&e, &["ltv_cac"], "ltv_cak >= 3").unwrap_err();
        assert!(
            matches!(err.err_type(), rhai::ParseErrorType::VariableUndefined(v) if v == "ltv_cak"),
            "{err:?}"
        );
    }

    #[test]
    fn the_deadline_is_per_thread_and_restored() {
        with_deadline(Duration::from_secs(60), || {
            with_deadline(Duration::ZERO, || assert!(deadline_passed()));
            assert!(!deadline_passed());
        });
        assert!(!deadline_passed());
    }
}
