//! `neurozoo`: train, evaluate, import, run and benchmark the models of the zoo.
//!
//! The command line only: each command's arguments and its thin `run` are a file under
//! `commands/`; the work is in the `engine`, `interop` and `paper` crates, which the
//! integration tests drive directly.

// The doc comments below are clap's help text, written for a terminal ([B,T,in], runs/<name>),
// not for rustdoc.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

/// mimalloc instead of the system allocator. A training step allocates and frees buffers of
/// megabytes (the fused recurrences' activations, Burn's tensors); glibc's malloc hands those
/// back to the kernel each time, and the page faults and cross-core TLB flushes of mapping
/// them again cost more than the recurrence itself (L-MNIST LHetA, 2 cores: 0.098 s per
/// step with glibc, 0.059 s with its mmap threshold raised by hand). mimalloc keeps freed
/// memory for reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its header's `mi_option_e`; the Rust bindings name no
/// constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the OS after 1 s unused instead of mimalloc's 10 ms: a training
/// step takes longer than 10 ms, so its buffers were returned and faulted in again every
/// step (L-MNIST LHetA: 0.044 → 0.040 s per step fused, 0.097 → 0.083 s per-step).
#[allow(unsafe_code)]
fn keep_freed_memory_for_a_second() {
    // SAFETY: `mi_option_set` stores one integer in mimalloc's option table; it takes no
    // pointers and may be called at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) }
}

use clap::{Parser, Subcommand};

mod commands;

use commands::*;

#[derive(Parser, Debug)]
#[command(name = "neurozoo", version, about = "Expressive recurrent neuron models (GLIFR, ELM) on Burn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The commands, in the order `--help` lists them; each one's help text is its arguments' doc
/// comment, in its file under `commands/`.
#[derive(Subcommand, Debug)]
enum Command {
    Train(train::TrainArgs),
    Eval(eval::EvalArgs),
    Import(import::ImportArgs),
    Predict(predict::PredictArgs),
    Grads(grads::GradsArgs),
    Bench(bench::BenchArgs),
    BenchData(bench::BenchDataArgs),
    #[command(subcommand)]
    Gen(generate::GenCommand),
    Experiment(experiment::ExperimentArgs),
    Sweep(sweep::SweepArgs),
    Silence(silence::SilenceArgs),
    Clusters(clusters::ClustersArgs),
    EvalNeuronio(eval_neuronio::EvalNeuronioArgs),
    Info(info::InfoArgs),
}

fn main() {
    keep_freed_memory_for_a_second();
    // A panic inside a backend (e.g. wgpu finding no GPU adapter) should read as an error
    // message, not a backtrace; RUST_BACKTRACE=1 still gets the full report.
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".into());
            eprintln!("error: {message}");
            eprintln!(
                "(an internal failure; with --device wgpu, check that a GPU driver is installed; RUST_BACKTRACE=1 shows where it happened)"
            );
        }));
    }
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Import(args) => import::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Grads(args) => grads::run(args),
        Command::Bench(args) => bench::run(args),
        Command::BenchData(args) => bench::run_data(args),
        Command::Gen(command) => generate::run(command),
        Command::Experiment(args) => experiment::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Silence(args) => silence::run(args),
        Command::Clusters(args) => clusters::run(args),
        Command::EvalNeuronio(args) => eval_neuronio::run(args),
        Command::Info(args) => info::run(args),
    }
}
