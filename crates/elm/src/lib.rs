//! Expressive Leaky Memory (ELM) neurons and Branch-ELM (Spieler et al., ICLR 2024).
//!
//! Placeholder crate: the ELM family lands with its own issue. It exists now so that the
//! workspace layout is final and the `train` binary can grow into it without moving files.
