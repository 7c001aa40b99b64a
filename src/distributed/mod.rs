//! Distributed runs: one dedup run spread over several processes (one per
//! machine) and worker threads, on timely dataflow.
//!
//! This module holds only what is particular to running over timely: the
//! exchange ([`collective::TimelyExchange`], the timely implementation of
//! [`crate::exchange::Exchange`]), where the processes are ([`Cluster`]), and
//! starting the workers ([`run`]). The stages are those of every run
//! ([`crate::pipeline::engine`]); each worker then writes its part of each output
//! file ([`crate::output::parts`]).
//!
//! Every process maps the same inputs and cuts them into the same shards; each
//! worker sketches a contiguous share of the shards, so concatenating the
//! workers' output parts in worker order gives the single-process files. Every
//! stage ends with a barrier that also carries failures, so a worker that meets
//! bad input stops the whole run with its message instead of leaving the others
//! waiting. `report.json` is written only after every worker has put its parts
//! in place, so its presence marks a complete run.

//!
//! A process that dies breaks its TCP connections; timely's receive threads then
//! panic, and [`peer_loss`] stops the surviving workers so that [`run`] returns an
//! error naming the lost connection on every surviving process. Where the
//! processes are comes from explicit settings, a hostfile, a cluster launcher
//! (Slurm, MPI, Kubernetes) or a rendezvous: see [`launch`] and [`rendezvous`].

mod address;
pub mod collective;
pub mod launch;
mod peer_loss;
pub mod rendezvous;
mod worker;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::pipeline::{DedupConfig, NoProgress, Progress, Total};

pub use crate::output::parts::part_name;
pub use launch::{place, LaunchSettings, Launcher, Placement};
pub use peer_loss::is_lost_connection;
pub use worker::RunSummary;

/// First port of the default addresses (`127.0.0.1:2101`, `:2102`, ...), as in
/// timely's own examples.
pub const DEFAULT_BASE_PORT: u16 = 2101;

/// Where the processes of a distributed run are and which one this is.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Number of processes.
    pub processes: usize,
    /// This process's index, `0..processes`.
    pub process: usize,
    /// Worker threads per process.
    pub workers: usize,
    /// `host:port` of every process, in process order.
    pub addresses: Vec<String>,
    /// How long to wait for every process to connect.
    pub connect_timeout: Duration,
}

impl Cluster {
    /// A cluster of `processes` processes with `workers` workers each; addresses
    /// come from `hostfile` (one `host:port` per line, in process order; blank
    /// lines and `#` comments skipped) or default to `127.0.0.1:2101` and up.
    pub fn new(
        processes: usize,
        process: usize,
        workers: usize,
        hostfile: Option<&Path>,
        connect_timeout: Duration,
    ) -> Result<Cluster> {
        check_placement(processes, process)?;
        let addresses = match hostfile {
            Some(path) => read_hostfile(path, processes)?,
            None => launch::loopback_addresses(processes, DEFAULT_BASE_PORT)?,
        };
        Cluster::with_addresses(process, workers, addresses, connect_timeout)
    }

    /// A cluster of one process per address (`host:port`, in process order),
    /// this one being `process`, with `workers` workers each.
    pub fn with_addresses(
        process: usize,
        workers: usize,
        addresses: Vec<String>,
        connect_timeout: Duration,
    ) -> Result<Cluster> {
        let processes = addresses.len();
        check_placement(processes, process)?;
        if workers == 0 {
            return Err(Error::invalid_setting("workers", workers, "at least 1"));
        }
        Ok(Cluster {
            processes,
            process,
            workers,
            addresses,
            connect_timeout,
        })
    }

    /// Workers in all processes.
    pub fn total_workers(&self) -> usize {
        self.processes * self.workers
    }

    fn timely_config(&self) -> timely::Config {
        let communication = if self.processes > 1 {
            timely::CommunicationConfig::Cluster {
                threads: self.workers,
                process: self.process,
                addresses: self.addresses.clone(),
                report: false,
                zerocopy: false,
            }
        } else if self.workers > 1 {
            timely::CommunicationConfig::Process(self.workers)
        } else {
            timely::CommunicationConfig::Thread
        };
        timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        }
    }
}

/// Checks that a run has at least one process and that `process` is one of
/// them (numbered from 0).
pub(crate) fn check_placement(processes: usize, process: usize) -> Result<()> {
    if processes == 0 {
        return Err(Error::invalid_setting("processes", processes, "at least 1"));
    }
    if process >= processes {
        return Err(Error::invalid_setting(
            "process",
            process,
            format!(
                "between 0 and {} (processes are numbered from 0)",
                processes - 1
            ),
        ));
    }
    Ok(())
}

/// Reads `processes` addresses from a hostfile.
fn read_hostfile(path: &Path, processes: usize) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut addresses = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if !line.contains(':') || line.split_whitespace().count() != 1 {
            return Err(Error::at_line(
                path,
                number as u64 + 1,
                format!("expected one host:port address, found {line:?}"),
            ));
        }
        addresses.push(line.to_string());
    }
    if addresses.len() < processes {
        return Err(Error::in_file(
            path,
            format!(
                "lists {} address(es) but --processes is {processes}",
                addresses.len()
            ),
        ));
    }
    addresses.truncate(processes);
    Ok(addresses)
}

/// Everything a distributed run needs besides the cluster.
#[derive(Debug, Clone)]
pub struct Job {
    /// The settings.
    pub config: DedupConfig,
    /// Output folder (each process writes its own parts into it).
    pub out: PathBuf,
    /// What is written of the records.
    pub output: crate::output::records::RecordOutput,
    /// This process's scratch folder.
    pub work_dir: PathBuf,
    /// Memory for large working structures, per process.
    pub memory_budget: u64,
    /// Input bytes per shard (`None`: from the budget, and small enough that
    /// every worker gets a share).
    pub shard_bytes: Option<u64>,
    /// Print one line per finished stage on stderr (from the first worker of
    /// each process).
    pub log_stages: bool,
    /// A saved index to compare against (every process reads it).
    pub index: Option<Arc<crate::index::SignatureIndex>>,
    /// Where that index is, for messages.
    pub index_path: Option<PathBuf>,
    /// Gather every unit's name and compact signature on process 0, to save
    /// them as an index; units already in `index` are then refused.
    pub save_index: bool,
}

/// Runs `job` over `corpus` as process `cluster.process` of `cluster`: connects
/// to the other processes, runs this process's workers, and writes this
/// process's output parts (and, on process 0, `report.json`).
///
/// Returns the run's summary on process 0 and `None` elsewhere. Fails with
/// [`Error::Distributed`] when the other processes have not all connected
/// within the cluster's connect timeout (naming the addresses), and when a
/// connection to another process breaks mid-run ([`is_lost_connection`]).
///
/// Timely connects to the other processes on a thread of its own, which cannot
/// be cancelled: after a connect timeout it is left behind, still trying, and
/// ends with the process. After a lost connection, timely's communication
/// threads are left behind the same way.
pub fn run(
    corpus: Arc<Corpus>,
    job: Job,
    cluster: &Cluster,
    progress: &dyn Progress,
) -> Result<Option<RunSummary>> {
    job.config.validate()?;
    peer_loss::install();
    let _active = peer_loss::Active::begin();
    let workers = cluster.workers;
    let job = Arc::new(job);
    let (report, outcomes) = mpsc::channel::<Outcome>();
    let config = cluster.timely_config();
    let (started_tx, started) = mpsc::channel();
    std::thread::Builder::new()
        .name("neardedup-connect".into())
        .spawn(move || {
            let guards = timely::execute(config, move |worker| {
                // The first worker of the process shows the run's progress, through
                // the thread that waits for the workers.
                let relay = Relay(Mutex::new(report.clone()));
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    let mut exchange = collective::TimelyExchange::new(worker, workers);
                    let shown: &dyn Progress = if exchange.first_in_process() {
                        &relay
                    } else {
                        &NoProgress
                    };
                    worker::run(&mut exchange, &corpus, &job, shown)
                }));
                let outcome = match outcome {
                    Ok(result) => Outcome::Finished(Box::new(result)),
                    Err(payload) => {
                        let text = peer_loss::payload_text(payload.as_ref())
                            .unwrap_or("a panic without a message")
                            .to_string();
                        if text != peer_loss::STOP {
                            // The process's other workers would wait for this one.
                            peer_loss::record(&text);
                        }
                        Outcome::Stopped(text)
                    }
                };
                let _ = report.send(outcome);
            });
            let _ = started_tx.send(guards);
        })
        .map_err(|e| Error::Distributed(format!("could not start: {e}")))?;
    let started = if cluster.processes > 1 {
        started
            .recv_timeout(cluster.connect_timeout)
            .map_err(|e| match e {
                mpsc::RecvTimeoutError::Timeout => not_connected(cluster),
                mpsc::RecvTimeoutError::Disconnected => {
                    Error::Distributed("could not start: connecting failed".into())
                }
            })?
    } else {
        started
            .recv()
            .map_err(|_| Error::Distributed("could not start the workers".into()))?
    };
    let guards = started.map_err(|e| Error::Distributed(format!("could not start: {e}")))?;

    let mut summary = None;
    let mut first_error: Option<Error> = None;
    let mut internal: Option<String> = None;
    let mut stopped = false;
    let mut ended = 0;
    while ended < workers {
        let Ok(outcome) = outcomes.recv() else {
            break;
        };
        if !matches!(outcome, Outcome::Progress(_)) {
            ended += 1;
        }
        match outcome {
            Outcome::Progress(event) => event.show(progress),
            Outcome::Finished(result) => match *result {
                Ok(Some(s)) => summary = Some(s),
                Ok(None) => {}
                Err(e) => {
                    // Keep a worker's own error over the echo of another's.
                    if first_error.is_none() || matches!(first_error, Some(Error::Peer { .. })) {
                        first_error = Some(e);
                    }
                }
            },
            Outcome::Stopped(text) => {
                stopped = true;
                if text != peer_loss::STOP && internal.is_none() {
                    internal = Some(text);
                }
            }
        }
    }
    if stopped {
        // Joining would wait on the broken communication threads: leave them.
        std::mem::forget(guards);
        if let Some(text) = internal.filter(|t| !t.contains("poisoned")) {
            return Err(Error::Distributed(format!(
                "process {}: a worker failed: {text}",
                cluster.process
            )));
        }
        let detail = peer_loss::communication_failure()
            .unwrap_or_else(|| "timely communication error".to_string());
        return Err(peer_loss::lost_connection(cluster.process, &detail));
    }
    for result in guards.join() {
        if let Err(panic) = result {
            return Err(Error::Distributed(format!("a worker failed: {panic}")));
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(summary)
}

/// What a worker tells the thread that waits for it: how it ended, or how far
/// it got.
enum Outcome {
    /// Progress of the first worker of the process.
    Progress(Event),
    /// It returned.
    Finished(Box<Result<Option<RunSummary>>>),
    /// It unwound, with this panic message ([`peer_loss::STOP`] when it was
    /// stopped because the run cannot finish).
    Stopped(String),
}

/// One call of a [`Progress`] method, on its way to the waiting thread.
enum Event {
    Stage(String, Option<Total>),
    Advance(u64),
    Finish,
    Note(String),
    Warn(String),
}

impl Event {
    fn show(self, progress: &dyn Progress) {
        match self {
            Event::Stage(name, total) => progress.stage(&name, total),
            Event::Advance(amount) => progress.advance(amount),
            Event::Finish => progress.finish_stage(),
            Event::Note(message) => progress.note(&message),
            Event::Warn(message) => progress.warn(&message),
        }
    }
}

/// A [`Progress`] that sends every call to the waiting thread, which passes it
/// on to the caller's.
struct Relay(Mutex<mpsc::Sender<Outcome>>);

impl Relay {
    fn send(&self, event: Event) {
        if let Ok(sender) = self.0.lock() {
            let _ = sender.send(Outcome::Progress(event));
        }
    }
}

impl Progress for Relay {
    fn stage(&self, name: &str, total: Option<Total>) {
        self.send(Event::Stage(name.to_string(), total));
    }
    fn advance(&self, amount: u64) {
        self.send(Event::Advance(amount));
    }
    fn finish_stage(&self) {
        self.send(Event::Finish);
    }
    fn note(&self, message: &str) {
        self.send(Event::Note(message.to_string()));
    }
    fn warn(&self, message: &str) {
        self.send(Event::Warn(message.to_string()));
    }
}

/// The error of a process whose peers did not all connect in time.
fn not_connected(cluster: &Cluster) -> Error {
    Error::Distributed(format!(
        "process {}: not every process of the run connected within {}s (addresses: {}); start \
         every process with the same process count and addresses (the same hostfile, launcher \
         or rendezvous)",
        cluster.process,
        cluster.connect_timeout.as_secs(),
        cluster.addresses.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostfiles_list_one_address_per_process_with_comments_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hosts");
        std::fs::write(
            &path,
            "# cluster\n10.0.0.1:2101\n\n10.0.0.2:2101  # second\n10.0.0.3:2101\n",
        )
        .expect("write");
        assert_eq!(
            read_hostfile(&path, 2).expect("two"),
            vec!["10.0.0.1:2101", "10.0.0.2:2101"]
        );
        let short = read_hostfile(&path, 4).expect_err("too few").to_string();
        assert!(
            short.contains("lists 3 address(es) but --processes is 4"),
            "{short}"
        );
        std::fs::write(&path, "10.0.0.1:2101\n10.0.0.2\n").expect("write");
        let bad = read_hostfile(&path, 2).expect_err("no port").to_string();
        assert!(
            bad.contains("hosts:2: expected one host:port address"),
            "{bad}"
        );
    }

    #[test]
    fn default_addresses_are_loopback_ports_from_2101() {
        let cluster = Cluster::new(3, 1, 2, None, Duration::from_secs(5)).expect("cluster");
        assert_eq!(
            cluster.addresses,
            vec!["127.0.0.1:2101", "127.0.0.1:2102", "127.0.0.1:2103"]
        );
        assert_eq!(cluster.total_workers(), 6);
        assert!(Cluster::new(2, 2, 1, None, Duration::from_secs(5)).is_err());
        assert!(Cluster::new(2, 0, 0, None, Duration::from_secs(5)).is_err());
    }
}
