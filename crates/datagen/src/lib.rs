//! Generated data for the neurozoo tasks, where the real data cannot be had or must be made:
//! what `neurozoo gen` writes, in the formats the `tasks` readers take.
//!
//! * [`pathfinder`]: the Pathfinder generator (LRA's Pathfinder and Path-X), image by image,
//!   and its release layout (`metadata/<k>.npy` + `imgs/<k>/`).
//! * [`shd_synth`]: SHD-synthetic, spoken digits through a cochlea model into spike trains.
//! * [`shd_write`]: SHD files in the published layout, through [`hdf5_write`], a minimal HDF5
//!   writer.
//! * [`parallel`]: the work queue both generators spread their items over.
//!
//! Dependencies point one way: `datagen` → `tasks`, never back; readers and batching stay in
//! `tasks`.

pub mod hdf5_write;
pub mod parallel;
pub mod pathfinder;
pub mod shd_synth;
pub mod shd_write;
