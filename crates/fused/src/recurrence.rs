//! The seam every recurrent model of the zoo shares: run a **segment** of a sequence from a
//! start state and hand on the end state, fused where the model has a fused operation.
//!
//! A whole-sequence forward is one segment from the zero state. Segmented recomputation
//! (`engine::recompute`) is the other user: it runs the segments without a graph, keeping only
//! their start states, then runs each again with a graph, backwards, passing the gradient of
//! each start state to the segment before. For that it needs only what this trait says: how to
//! run a segment, how to read the last step out, and the state's tensors (to store them
//! detached, to track them, and to read their gradients).
//!
//! What a state holds is each model's business: the ELM's trace and memory; GLIFR's last d
//! rates (the lateral input reaches back d steps), voltage and after-spike currents; the RNN's
//! last d rates; the LSTM's h and c.

use burn::module::Module;
use burn::prelude::*;

/// A recurrent model that runs a sequence in segments.
pub trait Recurrence: Module {
    /// What one segment hands the next.
    type State: Clone;

    /// Runs `input` `[B,T,in]` from `start` (`None`: the zero state, exactly as the model's
    /// whole-sequence forward) and returns the state after its last step.
    fn run_segment_to_end(&self, input: Tensor<3>, start: Option<Self::State>) -> Self::State;

    /// The readout of the step an end state is the state after, `[B,out]`.
    fn readout_end(&self, end: &Self::State) -> Tensor<2>;

    /// The state's tensors, in a fixed order.
    fn state_into_parts(state: Self::State) -> Vec<Tensor<3>>;

    /// [`Self::state_into_parts`]'s tensors (changed, say detached) back as a state shaped
    /// like `like`.
    fn state_from_parts(parts: Vec<Tensor<3>>, like: &Self::State) -> Self::State;
}
