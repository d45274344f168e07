//! Weir's query side: the [`filter`] language users type to select flows, checked against the flow schema
//! (`weir_flow::COLUMNS`) and compiled both to SQL for the stores and to a predicate over in-memory flows.
//!
//! The crate stays free of any query engine: it produces SQL text, and the store crates run it.

pub mod backend;
pub mod filter;
pub mod fuzzing;
pub mod plan;
