//! marqa: a rules-as-configuration audit engine for B2B marketing analytics.
//!
//! Data flows one way, and a later stage may read an earlier one's types, never the reverse:
//!
//! `snapshot` (load, type, validate) → `metrics` (compute once, read-only store) →
//! `rules` (load packs, evaluate into findings) → `report` (render).
//!
//! `audit` strings those stages together for one snapshot (what `marqa check` and the
//! many-client `fleet` run); `cli` turns flags into calls of the library; the library never prints, never exits and
//! never reads the environment or the wall clock (the manifest's `as_of` is "now").

pub mod audit;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod diag;
pub mod diff;
pub mod eval;
pub mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod import;
pub mod metrics;
pub mod numbers;
pub mod plural;
pub mod report;
pub mod rules;
pub mod schema;
pub mod secrets;
pub mod snapshot;
pub mod yaml;
