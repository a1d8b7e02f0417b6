//! Rules as data: the rule model, loading rule files (schema-checked YAML with positions),
//! packs (`extends`, globs, overrides) and the built-in packs. Evaluation is `crate::eval`.
//!
//! The rule language, the script API and the sandbox limits are documented in
//! docs/rules.md.

pub mod builtin;
pub mod calls;
pub mod expr;
pub mod load;
pub mod manifest_path;
pub mod model;
pub mod names;
pub mod pack;
pub mod rows;
pub mod source;
pub mod texts;

pub use model::{Rule, Severity, Shape, Step};
pub use pack::{resolve, ResolvedPack};
