//! The Pathfinder generator (Linsley, Kim et al. 2018, as LRA configured it) and the writer of
//! its release layout, which `tasks::pathfinder` reads.

pub mod generate;
pub mod render;
pub mod write;
