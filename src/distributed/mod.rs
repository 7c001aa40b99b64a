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

pub mod collective;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::pipeline::DedupConfig;

pub use crate::output::parts::part_name;
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
        if processes == 0 || workers == 0 {
            return Err(Error::Config(
                "--processes and --workers must be at least 1".into(),
            ));
        }
        if process >= processes {
            return Err(Error::Config(format!(
                "--process {process} is out of range: processes are numbered 0 to {}",
                processes - 1
            )));
        }
        let addresses = match hostfile {
            Some(path) => read_hostfile(path, processes)?,
            None => (0..processes)
                .map(|i| format!("127.0.0.1:{}", usize::from(DEFAULT_BASE_PORT) + i))
                .collect(),
        };
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
    /// Gather every unit's name and compact signature on process 0, to save
    /// them as an index; units already in `index` are then refused.
    pub save_index: bool,
}

/// Runs `job` over `corpus` as process `cluster.process` of `cluster`: connects
/// to the other processes, runs this process's workers, and writes this
/// process's output parts (and, on process 0, `report.json`).
///
/// Returns the run's summary on process 0 and `None` elsewhere. Does not
/// return if a peer is lost (see the module documentation): that is turned into
/// an exit by the caller's panic hook.
pub fn run(corpus: Arc<Corpus>, job: Job, cluster: &Cluster) -> Result<Option<RunSummary>> {
    job.config.validate()?;
    let connected = Arc::new(AtomicBool::new(false));
    let watchdog = connect_watchdog(cluster, Arc::clone(&connected));
    let workers = cluster.workers;
    let job = Arc::new(job);
    let first_error: Arc<Mutex<Option<Error>>> = Arc::new(Mutex::new(None));
    let errors = Arc::clone(&first_error);
    let guards = timely::execute(cluster.timely_config(), move |worker| {
        connected.store(true, Ordering::SeqCst);
        let mut exchange = collective::TimelyExchange::new(worker, workers);
        match worker::run(&mut exchange, &corpus, &job) {
            Ok(summary) => summary,
            Err(e) => {
                let mut slot = errors.lock().unwrap_or_else(|p| p.into_inner());
                // Keep a worker's own error over the echo of another's.
                if slot.is_none() || matches!(*slot, Some(Error::Peer { .. })) {
                    *slot = Some(e);
                }
                None
            }
        }
    })
    .map_err(|e| Error::Distributed(format!("could not start: {e}")))?;
    let mut summary = None;
    for result in guards.join() {
        match result {
            Ok(Some(s)) => summary = Some(s),
            Ok(None) => {}
            Err(panic) => return Err(Error::Distributed(format!("a worker failed: {panic}"))),
        }
    }
    drop(watchdog);
    if let Some(e) = first_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    Ok(summary)
}

/// Ends the process with a clear message if the other processes have not all
/// connected within the cluster's timeout (timely itself would wait forever).
fn connect_watchdog(
    cluster: &Cluster,
    connected: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    if cluster.processes < 2 {
        return None;
    }
    let (timeout, addresses, process) = (
        cluster.connect_timeout,
        cluster.addresses.clone(),
        cluster.process,
    );
    Some(std::thread::spawn(move || {
        let step = Duration::from_millis(100);
        let mut waited = Duration::ZERO;
        while waited < timeout {
            if connected.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(step);
            waited += step;
        }
        eprintln!(
            "neardedup: error: process {process}: not every process of the run connected within {}s \
             (addresses: {}); start all processes with the same --processes and --hostfile",
            timeout.as_secs(),
            addresses.join(", ")
        );
        std::process::exit(1);
    }))
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
