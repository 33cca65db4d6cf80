//! The `--slurm` bundles against a real Slurm: a one-node cluster (munged, slurmctld, slurmd)
//! started in a temporary folder, a small experiment table and a 2×2 sweep submitted with the
//! bundles' own `submit.sh`, and their collected results compared with the same runs trained
//! in this process.
//!
//! It needs Debian's `slurm-wlm` and `munge` (`.ci/run` installs them) and root, for slurmd.
//! Without them it fails, saying what is missing: it never skips. The daemons it starts are
//! stopped by pid when it ends, pass or fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long the submitted jobs may take in all (they take seconds).
const JOBS_BOUND: Duration = Duration::from_secs(300);

fn run(program: &str, args: &[&str], env: &[(&str, &Path)], cwd: &Path) -> Output {
    let mut command = Command::new(program);
    command.args(args).current_dir(cwd);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn ok(o: Output, what: &str) -> String {
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{what} failed: {}\n{text}", String::from_utf8_lossy(&o.stderr));
    text
}

fn neurozoo(args: &[&str], cwd: &Path) -> String {
    let o = run(env!("CARGO_BIN_EXE_neurozoo"), args, &[], cwd);
    ok(o, &format!("neurozoo {}", args.join(" ")))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A one-node Slurm in a temporary folder; stopped (by pid) when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        for tool in ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"] {
            let found = run("sh", &["-c", &format!("command -v {tool}")], &[], Path::new("/")).status.success();
            assert!(
                found,
                "`{tool}` is not installed: this test needs Debian's slurm-wlm and munge (.ci/run installs them); it does not skip"
            );
        }
        let uid = String::from_utf8(run("id", &["-u"], &[], Path::new("/")).stdout).unwrap();
        assert_eq!(uid.trim(), "0", "this test starts slurmd, which must run as root; it does not skip");
        let dir = tempfile::tempdir().unwrap();
        let d = &dir.path().to_path_buf();
        for sub in ["state", "spool", "munge"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let host = String::from_utf8(run("hostname", &["-s"], &[], d).stdout).unwrap().trim().to_string();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
        let kib: u64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let conf = d.join("slurm.conf");
        let p = |name: &str| d.join(name).display().to_string();
        std::fs::write(
            &conf,
            format!(
                "ClusterName=neurozoo-test\nSlurmctldHost={host}\nSlurmUser=root\nSlurmdUser=root\n\
                 AuthType=auth/munge\nAuthInfo=socket={munge_socket}\n\
                 ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
                 SchedulerType=sched/backfill\nSelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n\
                 StateSaveLocation={state}\nSlurmdSpoolDir={spool}\n\
                 SlurmctldPidFile={ctld_pid}\nSlurmdPidFile={d_pid}\n\
                 SlurmctldLogFile={ctld_log}\nSlurmdLogFile={d_log}\n\
                 SlurmctldPort={ctld_port}\nSlurmdPort={d_port}\nReturnToService=2\nMpiDefault=none\n\
                 JobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n\
                 NodeName={host} CPUs={cpus} RealMemory={mem} State=UNKNOWN\n\
                 PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
                munge_socket = p("munge/munge.socket"),
                state = p("state"),
                spool = p("spool"),
                ctld_pid = p("slurmctld.pid"),
                d_pid = p("slurmd.pid"),
                ctld_log = p("slurmctld.log"),
                d_log = p("slurmd.log"),
                ctld_port = free_port(),
                d_port = free_port(),
                mem = kib / 1024 * 9 / 10,
            ),
        )
        .unwrap();
        let cluster = Cluster { dir, conf };
        let munge = [
            "--force",
            &format!("--socket={}", p("munge/munge.socket")),
            &format!("--pid-file={}", p("munge/munged.pid")),
            &format!("--log-file={}", p("munge/munged.log")),
            &format!("--seed-file={}", p("munge/seed")),
        ]
        .map(String::from);
        let munge: Vec<&str> = munge.iter().map(String::as_str).collect();
        ok(run("munged", &munge, &[], d), "munged");
        let conf = cluster.conf.to_str().unwrap();
        ok(run("slurmctld", &["-f", conf], &[], d), "slurmctld");
        ok(run("slurmd", &["-f", conf], &[], d), "slurmd");
        // The node registers within seconds.
        let start = Instant::now();
        loop {
            let state = cluster.slurm("sinfo", &["-h", "-o", "%T"]);
            if state.trim() == "idle" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the Slurm node did not come up (state {state:?}); slurmctld.log:\n{}",
                std::fs::read_to_string(d.join("slurmctld.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        cluster
    }

    fn slurm(&self, program: &str, args: &[&str]) -> String {
        ok(run(program, args, &[("SLURM_CONF", &self.conf)], self.dir.path()), program)
    }

    /// Submits a bundle with its own submit.sh and waits (bounded) until its jobs have left
    /// the queue.
    fn submit_and_wait(&self, bundle: &Path, cwd: &Path) {
        let submit = bundle.join("submit.sh");
        let out = ok(run("bash", &[submit.to_str().unwrap()], &[("SLURM_CONF", &self.conf)], cwd), "submit.sh");
        let jobs: Vec<String> = out
            .lines()
            .filter_map(|l| l.split("job ").nth(1))
            .map(|j| j.split_whitespace().next().unwrap().to_string())
            .collect();
        assert!(!jobs.is_empty(), "submit.sh printed no job ids: {out}");
        let start = Instant::now();
        loop {
            let queue = self.slurm("squeue", &["-h", "-j", &jobs.join(","), "-o", "%i %T %r"]);
            if queue.trim().is_empty() {
                break;
            }
            // A failed task leaves the later levels waiting forever: report it at once.
            let failed = queue.contains("DependencyNeverSatisfied");
            assert!(
                !failed && start.elapsed() < JOBS_BOUND,
                "the jobs did not finish (bound {JOBS_BOUND:?}):\n{queue}\nlogs:\n{}",
                logs(&bundle.join("logs"))
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for pid_file in ["slurmd.pid", "slurmctld.pid", "munge/munged.pid"] {
            if let Ok(pid) = std::fs::read_to_string(self.dir.path().join(pid_file)) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

/// Every log of a bundle, for a failure message.
fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        text +=
            &format!("--- {}\n{}\n", entry.path().display(), std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    text
}

/// A CSV without its `seconds` column (the one thing that differs between two trainings).
fn without_seconds(csv: &str) -> Vec<String> {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "seconds").expect("a seconds column");
    csv.lines()
        .map(|l| l.split(',').enumerate().filter(|(i, _)| *i != column).map(|(_, v)| v).collect::<Vec<_>>().join(","))
        .collect()
}

#[test]
fn bundles_run_on_a_real_slurm_and_collect_what_the_process_writes() {
    let cluster = Cluster::start();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();

    // A 2-trial sine table of LHetA and RHetA (RHetA's het init reads its trial's LHetA: two
    // levels), a few epochs.
    let table =
        ["experiment", "sine-table", "--trials", "2", "--models", "lheta,rheta", "--epochs", "3", "--device", "flex"];
    let plan = neurozoo(&[&table[..], &["--out", "slurm-table", "--plan"]].concat(), w);
    assert!(
        plan.contains("4 runs in 2 level(s)") && plan.contains("rheta-trial1") && plan.contains("← lheta-trial1"),
        "{plan}"
    );
    let report =
        neurozoo(&[&table[..], &["--out", "slurm-table", "--slurm", "table-bundle", "--mem", "500M"]].concat(), w);
    assert!(report.contains("2 job array(s) of 2 + 2 task(s)"), "{report}");
    cluster.submit_and_wait(&w.join("table-bundle"), w);
    neurozoo(&[&table[..], &["--out", "local-table"]].concat(), w);
    let from_slurm = std::fs::read_to_string(w.join("slurm-table/table.csv")).expect("the collect job wrote table.csv");
    let in_process = std::fs::read_to_string(w.join("local-table/table.csv")).unwrap();
    assert_eq!(from_slurm, in_process, "the table collected after Slurm differs from the in-process one");
    assert!(from_slurm.contains("rheta,RHetA,2,3,"), "{from_slurm}");

    // A 2×2 sweep of the sine RNN, 2 epochs: one level of 4 tasks.
    let base = root.join("configs/sine/rnn.toml");
    let sweep = [
        "sweep",
        "--config",
        base.to_str().unwrap(),
        "--grid",
        "training.learning_rate=0.001,0.0001",
        "--grid",
        "model.hidden_size=8,16",
        "--set",
        "training.epochs=2",
        "--device",
        "flex",
    ];
    let report =
        neurozoo(&[&sweep[..], &["--out", "slurm-sweep", "--slurm", "sweep-bundle", "--mem", "500M"]].concat(), w);
    assert!(report.contains("1 job array(s) of 4 task(s)"), "{report}");
    cluster.submit_and_wait(&w.join("sweep-bundle"), w);
    neurozoo(&[&sweep[..], &["--out", "local-sweep"]].concat(), w);
    let from_slurm = std::fs::read_to_string(w.join("slurm-sweep/sweep.csv")).expect("the collect job wrote sweep.csv");
    let in_process = std::fs::read_to_string(w.join("local-sweep/sweep.csv")).unwrap();
    assert_eq!(without_seconds(&from_slurm), without_seconds(&in_process));
    assert_eq!(from_slurm.lines().count(), 5, "a header and 4 runs: {from_slurm}");
    assert!(from_slurm.contains("learning_rate-0.0001_hidden_size-16_trial0,0,0.0001,16,2,"), "{from_slurm}");
}
