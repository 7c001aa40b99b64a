//! Where the processes of a distributed run come from: how many there are, which
//! one this is, and where each one listens.
//!
//! Cluster schedulers start every process of a job with the same command line
//! and tell each one its place through environment variables. This module reads
//! them with pure functions over a map of variables ([`Env`]; a front end passes
//! [`environment`], tests pass their own), in this order:
//!
//! 1. **Explicit settings**: a process index (and count) given by the caller.
//! 2. **Slurm** (`srun`): `SLURM_NTASKS`, `SLURM_PROCID`, `SLURM_JOB_NODELIST` in
//!    Slurm's compressed hostlist syntax (`node[01-03,07],gpu-a[1-2]`, see
//!    [`expand_hostlist`]) and `SLURM_TASKS_PER_NODE` (`2(x3),1`: two tasks on
//!    each of three nodes, then one). The step's own variables
//!    (`SLURM_STEP_NUM_TASKS`, `SLURM_STEP_NODELIST`, `SLURM_STEP_TASKS_PER_NODE`)
//!    win where `srun` sets them. Tasks fill the nodes in block order (Slurm's
//!    default distribution); a task listens on its node at the base port plus its
//!    rank on that node.
//! 3. **MPI launchers** (`mpirun`, `mpiexec`): Open MPI's `OMPI_COMM_WORLD_SIZE`
//!    and `OMPI_COMM_WORLD_RANK`, MPICH / Intel MPI / Hydra's `PMI_SIZE` and
//!    `PMI_RANK`, PMIx's `PMIX_RANK` (with the process count given by the caller).
//!    They name no hosts, so the processes find each other through a
//!    [rendezvous](super::rendezvous).
//! 4. **Kubernetes indexed Jobs**: `JOB_COMPLETION_INDEX`, the process count given
//!    by the caller (the Job's completions) and a headless Service: process `i`
//!    listens on `<job>-<i>.<service>:<base port>`, the job name coming from the
//!    pod's hostname (`<job>-<index>`) unless given.
//!
//! [`Launcher::Auto`] takes a launcher's word only when it says the job has more
//! than one process (and, for Kubernetes, when a Service is named), so a plain run,
//! or a single task of a scheduler job, stays a single-process run.
//!
//! Addresses then come from a hostfile if one is given, else from a rendezvous if
//! one is given, else from the launcher, else from loopback ports (one machine).
//! [`Placement::into_cluster`] does that reading and talking.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

use super::address::is_dns_name;
pub use super::address::{is_address, MAX_ADDRESS_LEN};
use super::{rendezvous, Cluster, DEFAULT_BASE_PORT};

/// Environment variables by name.
pub type Env = HashMap<String, String>;

/// Most hosts a hostlist may expand to: far more than any cluster, and small
/// enough that a typing slip (`node[1-99999999]`) is an error, not an
/// allocation of gigabytes.
pub const MAX_HOSTS: usize = 1 << 16;

/// This process's environment, for [`place`] (variables whose name or value is
/// not UTF-8 are left out: none of those read here can be).
pub fn environment() -> Env {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

/// Which launcher to read the process count and index from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Launcher {
    /// The first of Slurm, MPI and Kubernetes whose variables describe a job of
    /// more than one process; none when there is no such job.
    #[default]
    Auto,
    /// Only the explicit settings; the environment is not read.
    None,
    /// Slurm (`srun`); its variables must be set.
    Slurm,
    /// An MPI launcher (Open MPI, MPICH, Intel MPI, Hydra, PMIx); its variables must be set.
    Mpi,
    /// A Kubernetes indexed Job; `JOB_COMPLETION_INDEX` must be set.
    Kubernetes,
}

/// Where a run's process count and index came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The caller's explicit settings.
    Settings,
    /// Slurm's task variables.
    Slurm,
    /// Open MPI's `OMPI_COMM_WORLD_*`.
    OpenMpi,
    /// The PMI variables of MPICH, Intel MPI and Hydra.
    Pmi,
    /// PMIx's `PMIX_RANK`.
    Pmix,
    /// A Kubernetes indexed Job's `JOB_COMPLETION_INDEX`.
    Kubernetes,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Settings => "as set",
            Source::Slurm => "from Slurm (SLURM_PROCID, SLURM_NTASKS)",
            Source::OpenMpi => "from Open MPI (OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE)",
            Source::Pmi => "from the MPI launcher (PMI_RANK, PMI_SIZE)",
            Source::Pmix => "from PMIx (PMIX_RANK)",
            Source::Kubernetes => "from the Kubernetes indexed Job (JOB_COMPLETION_INDEX)",
        })
    }
}

/// Where the processes listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addresses {
    /// Read from a hostfile (see [`Cluster::new`]).
    Hostfile(PathBuf),
    /// Exchanged through a rendezvous at this `host:port`.
    Rendezvous(String),
    /// Given by the launcher, one per process in process order.
    Listed(Vec<String>),
    /// `127.0.0.1` from this port up: every process on one machine.
    Loopback(u16),
}

/// The explicit settings of a distributed run, and which launcher may fill in
/// the rest.
#[derive(Debug, Clone)]
pub struct LaunchSettings {
    /// Where to look for the process count and index.
    pub launcher: Launcher,
    /// Number of processes, if given.
    pub processes: Option<usize>,
    /// This process's index, if given.
    pub process: Option<usize>,
    /// A file of addresses, one per process.
    pub hostfile: Option<PathBuf>,
    /// A `host:port` where process 0 gathers the others' addresses.
    pub rendezvous: Option<String>,
    /// First port: of the loopback addresses, of each Slurm node (plus the
    /// task's rank on it) and of every Kubernetes pod.
    pub base_port: u16,
    /// The headless Service of a Kubernetes indexed Job.
    pub k8s_service: Option<String>,
    /// The Kubernetes Job's name (default: the pod's hostname without `-<index>`).
    pub k8s_job_name: Option<String>,
    /// Run the distributed engine even as a single process.
    pub distributed: bool,
}

impl Default for LaunchSettings {
    fn default() -> Self {
        LaunchSettings {
            launcher: Launcher::Auto,
            processes: None,
            process: None,
            hostfile: None,
            rendezvous: None,
            base_port: DEFAULT_BASE_PORT,
            k8s_service: None,
            k8s_job_name: None,
            distributed: false,
        }
    }
}

/// This process's place in a distributed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Where the count and index came from.
    pub source: Source,
    /// Number of processes.
    pub processes: usize,
    /// This process's index, below `processes`.
    pub process: usize,
    /// Where every process listens.
    pub addresses: Addresses,
}

impl fmt::Display for Placement {
    /// One line saying which process this is and where that came from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "process {} of {} {}, ",
            self.process, self.processes, self.source
        )?;
        match &self.addresses {
            Addresses::Hostfile(path) => write!(f, "addresses from {}", path.display()),
            Addresses::Rendezvous(at) => write!(f, "addresses through the rendezvous at {at}"),
            Addresses::Listed(list) => {
                let named = match self.source {
                    Source::Slurm => "the Slurm node list",
                    Source::Kubernetes => "the Job's pod names",
                    _ => "the launcher",
                };
                write!(f, "addresses from {named} ({})", abbreviate(list))
            }
            Addresses::Loopback(port) => write!(f, "addresses 127.0.0.1:{port} and up"),
        }
    }
}

/// The first and last of a list, for one line.
fn abbreviate(list: &[String]) -> String {
    match list {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first}, {second}"),
        [first, .., last] => format!("{first} ... {last}"),
    }
}

impl Placement {
    /// The cluster this placement describes, with `workers` workers per process:
    /// reads the hostfile or meets the other processes at the rendezvous (waiting
    /// at most `connect_timeout` for them) as the addresses require.
    pub fn into_cluster(self, workers: usize, connect_timeout: Duration) -> Result<Cluster> {
        let addresses = match self.addresses {
            Addresses::Hostfile(path) => super::read_hostfile(&path, self.processes)?,
            Addresses::Rendezvous(at) => {
                rendezvous::exchange(&at, self.processes, self.process, connect_timeout)?
            }
            Addresses::Listed(list) => list,
            Addresses::Loopback(port) => loopback_addresses(self.processes, port)?,
        };
        Cluster::with_addresses(self.process, workers, addresses, connect_timeout)
    }
}

/// `127.0.0.1:base_port`, `:base_port + 1`, ..., one per process.
pub fn loopback_addresses(processes: usize, base_port: u16) -> Result<Vec<String>> {
    let ports = ports_from(base_port, processes)?;
    Ok(ports
        .iter()
        .map(|port| format!("127.0.0.1:{port}"))
        .collect())
}

/// `count` ports from `base`, or an error when they would pass 65535.
fn ports_from(base: u16, count: usize) -> Result<Vec<u16>> {
    let last = usize::from(base) + count.saturating_sub(1);
    if last > usize::from(u16::MAX) {
        return Err(Error::invalid_setting(
            "base_port",
            base,
            format!(
                "at most {} so that {count} consecutive ports end at 65535 or below (they end at \
                 {last})",
                (usize::from(u16::MAX) + 1).saturating_sub(count)
            ),
        ));
    }
    Ok((0..count).map(|i| base + i as u16).collect())
}

/// Where this process belongs, from `settings` and the launcher variables in
/// `env` (see the module documentation for the order). `None` means a
/// single-process run: nothing asks for the distributed engine.
pub fn place(settings: &LaunchSettings, env: &Env) -> Result<Option<Placement>> {
    let (source, processes, process, listed) = if let Some(process) = settings.process {
        (
            Source::Settings,
            settings.processes.unwrap_or(1),
            process,
            None,
        )
    } else if let Some(found) = from_launcher(settings, env)? {
        if let Some(given) = settings.processes.filter(|&n| n != found.processes) {
            return Err(Error::invalid_setting(
                "processes",
                given,
                format!(
                    "the launcher's count: {} process(es) {}",
                    found.processes, found.source
                ),
            ));
        }
        (
            found.source,
            found.processes,
            found.process,
            found.addresses,
        )
    } else if let Some(processes) = settings.processes.filter(|&n| n > 1) {
        return Err(Error::Config(format!(
            "a run of {processes} processes needs each process's index (0 to {}): set it on \
             each process, or start them with a launcher that sets it (srun, mpirun, a \
             Kubernetes indexed Job)",
            processes - 1
        )));
    } else if settings.processes.is_some()
        || settings.distributed
        || settings.hostfile.is_some()
        || settings.rendezvous.is_some()
    {
        (Source::Settings, 1, 0, None)
    } else {
        return Ok(None);
    };
    super::check_placement(processes, process)?;
    let addresses = if let Some(path) = &settings.hostfile {
        Addresses::Hostfile(path.clone())
    } else if let Some(at) = &settings.rendezvous {
        Addresses::Rendezvous(at.clone())
    } else if let Some(list) = listed {
        Addresses::Listed(list)
    } else if processes > 1 && matches!(source, Source::OpenMpi | Source::Pmi | Source::Pmix) {
        return Err(Error::Config(format!(
            "the MPI launcher says this is process {process} of {processes} but names no hosts: \
             give a rendezvous address (HOST:PORT on the machine of process 0, reachable from \
             every process) or a hostfile"
        )));
    } else {
        ports_from(settings.base_port, processes)?;
        Addresses::Loopback(settings.base_port)
    };
    Ok(Some(Placement {
        source,
        processes,
        process,
        addresses,
    }))
}

/// What a launcher says.
#[derive(Debug)]
struct Found {
    source: Source,
    processes: usize,
    process: usize,
    addresses: Option<Vec<String>>,
}

fn from_launcher(settings: &LaunchSettings, env: &Env) -> Result<Option<Found>> {
    let required = |found: Option<Found>, what: &str| {
        found.map(Some).ok_or_else(|| {
            Error::Config(format!(
                "the launcher is set to {what}, but none of its variables is set"
            ))
        })
    };
    match settings.launcher {
        Launcher::None => Ok(None),
        Launcher::Slurm => required(slurm(env, settings.base_port)?, "Slurm (SLURM_PROCID)"),
        Launcher::Mpi => required(
            mpi(env, settings.processes, true)?,
            "MPI (OMPI_COMM_WORLD_RANK, PMI_RANK, PMIX_RANK)",
        ),
        Launcher::Kubernetes => required(
            kubernetes(env, settings)?,
            "Kubernetes (JOB_COMPLETION_INDEX)",
        ),
        Launcher::Auto => {
            // Only a job of several processes: a launcher that started one
            // process, or an indexed Job used for independent runs, changes nothing.
            if let Some(found) = slurm_if_several(env, settings.base_port)? {
                return Ok(Some(found));
            }
            if let Some(found) = mpi(env, settings.processes, false)?.filter(|f| f.processes > 1) {
                return Ok(Some(found));
            }
            if settings.k8s_service.is_some() {
                return kubernetes(env, settings);
            }
            Ok(None)
        }
    }
}

/// Slurm's placement, but only when it describes more than one task (the node
/// list is not even read for one).
fn slurm_if_several(env: &Env, base_port: u16) -> Result<Option<Found>> {
    let several = matches!(slurm_count(env)?, Some((_, count)) if count > 1);
    if several && env.contains_key("SLURM_PROCID") {
        slurm(env, base_port)
    } else {
        Ok(None)
    }
}

/// The first of `names` that is set, with its value.
fn first_set<'e>(env: &'e Env, names: &[&'static str]) -> Option<(&'static str, &'e str)> {
    names
        .iter()
        .find_map(|&name| env.get(name).map(|value| (name, value.as_str())))
}

/// A variable that must hold a whole number.
fn number(name: &'static str, value: &str) -> Result<usize> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| Error::invalid_setting(name, format!("{value:?}"), "a whole number"))
}

const SLURM_COUNT: [&str; 2] = ["SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"];
const SLURM_NODES: [&str; 3] = [
    "SLURM_STEP_NODELIST",
    "SLURM_JOB_NODELIST",
    "SLURM_NODELIST",
];
const SLURM_TASKS_PER_NODE: [&str; 2] = ["SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"];

fn slurm_count(env: &Env) -> Result<Option<(&'static str, usize)>> {
    first_set(env, &SLURM_COUNT)
        .map(|(name, value)| Ok((name, number(name, value)?)))
        .transpose()
}

/// Slurm's task count, rank and each task's `node:port`.
fn slurm(env: &Env, base_port: u16) -> Result<Option<Found>> {
    let Some(rank) = env.get("SLURM_PROCID") else {
        return Ok(None);
    };
    let process = number("SLURM_PROCID", rank)?;
    let Some((count_name, processes)) = slurm_count(env)? else {
        return Err(Error::Config(
            "SLURM_PROCID is set but SLURM_NTASKS is not: start the processes with srun \
             (or give the process count)"
                .into(),
        ));
    };
    if processes == 0 {
        return Err(Error::invalid_setting(count_name, 0, "at least 1"));
    }
    if process >= processes {
        return Err(Error::invalid_setting(
            "SLURM_PROCID",
            process,
            format!("below {count_name} = {processes}"),
        ));
    }
    if let Some(distribution) = env
        .get("SLURM_DISTRIBUTION")
        .filter(|d| !d.is_empty() && !d.starts_with("block"))
    {
        return Err(Error::Config(format!(
            "Slurm places the tasks with SLURM_DISTRIBUTION = {distribution}; the node list \
             gives each task's node only for block placement: use srun's default \
             distribution, or a rendezvous"
        )));
    }
    let Some((nodes_name, nodes)) = first_set(env, &SLURM_NODES) else {
        return Err(Error::Config(
            "SLURM_PROCID is set but SLURM_JOB_NODELIST is not".into(),
        ));
    };
    let nodes = expand_hostlist(nodes).map_err(|e| Error::Config(format!("{nodes_name}: {e}")))?;
    if nodes.is_empty() {
        return Err(Error::invalid_setting(
            nodes_name,
            "\"\"",
            "at least one node",
        ));
    }
    let per_node = match first_set(env, &SLURM_TASKS_PER_NODE) {
        Some((name, value)) => {
            let counts = tasks_per_node(value)
                .map_err(|why| Error::invalid_setting(name, format!("{value:?}"), why))?;
            if counts.len() != nodes.len() {
                return Err(Error::invalid_setting(
                    name,
                    format!("{value:?}"),
                    format!(
                        "one count per node: {nodes_name} names {} node(s), this gives {}",
                        nodes.len(),
                        counts.len()
                    ),
                ));
            }
            let total: usize = counts.iter().sum();
            if total != processes {
                return Err(Error::invalid_setting(
                    name,
                    format!("{value:?}"),
                    format!("counts adding up to {count_name} = {processes}, not {total}"),
                ));
            }
            counts
        }
        None if nodes.len() == processes => vec![1; processes],
        None => {
            return Err(Error::Config(format!(
                "SLURM_TASKS_PER_NODE is not set and {nodes_name} names {} node(s) for \
                 {processes} tasks: cannot tell which task runs where",
                nodes.len()
            )))
        }
    };
    let mut addresses = Vec::with_capacity(processes);
    for (node, &tasks) in nodes.iter().zip(&per_node) {
        for port in ports_from(base_port, tasks)? {
            addresses.push(format!("{node}:{port}"));
        }
    }
    Ok(Some(Found {
        source: Source::Slurm,
        processes,
        process,
        addresses: Some(addresses),
    }))
}

/// Parses Slurm's tasks-per-node list: `2(x3),1` is `[2, 2, 2, 1]`.
pub fn tasks_per_node(text: &str) -> std::result::Result<Vec<usize>, String> {
    let mut counts = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        let (count, repeat) = match item.split_once('(') {
            Some((count, rest)) => {
                let times = rest
                    .strip_prefix('x')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| format!("{item:?} is not COUNT or COUNT(xTIMES)"))?;
                (count, times)
            }
            None => (item, "1"),
        };
        let count: usize = count
            .parse()
            .map_err(|_| format!("{item:?} does not start with a task count"))?;
        let repeat: usize = repeat
            .parse()
            .map_err(|_| format!("{item:?} has no repeat count after x"))?;
        if repeat == 0 || counts.len() + repeat > MAX_HOSTS {
            return Err(format!("{item:?} repeats 0 or more than {MAX_HOSTS} times"));
        }
        counts.extend(std::iter::repeat_n(count, repeat));
    }
    Ok(counts)
}

/// An MPI launcher's size and rank: Open MPI, then PMI, then PMIx (whose size
/// is `processes`; without it, PMIx alone is an error only if `required`).
fn mpi(env: &Env, processes: Option<usize>, required: bool) -> Result<Option<Found>> {
    let pairs = [
        (
            Source::OpenMpi,
            "OMPI_COMM_WORLD_RANK",
            Some("OMPI_COMM_WORLD_SIZE"),
        ),
        (Source::Pmi, "PMI_RANK", Some("PMI_SIZE")),
        (Source::Pmix, "PMIX_RANK", None),
    ];
    for (source, rank_name, size_name) in pairs {
        let Some(rank) = env.get(rank_name) else {
            continue;
        };
        let process = number(rank_name, rank)?;
        let (size_name, size) = match size_name.and_then(|n| Some((n, env.get(n)?))) {
            Some((name, value)) => (name, number(name, value)?),
            None => match processes {
                Some(n) => ("processes", n),
                None if !required => return Ok(None),
                None => {
                    return Err(Error::Config(format!(
                        "{rank_name} is set but the launcher gives no process count: \
                         give the number of processes"
                    )))
                }
            },
        };
        if size == 0 {
            return Err(Error::invalid_setting(size_name, 0, "at least 1"));
        }
        if process >= size {
            return Err(Error::invalid_setting(
                rank_name,
                process,
                format!("below {size_name} = {size}"),
            ));
        }
        return Ok(Some(Found {
            source,
            processes: size,
            process,
            addresses: None,
        }));
    }
    Ok(None)
}

/// A Kubernetes indexed Job's index and its pods' addresses.
fn kubernetes(env: &Env, settings: &LaunchSettings) -> Result<Option<Found>> {
    let Some(index) = env.get("JOB_COMPLETION_INDEX") else {
        return Ok(None);
    };
    let process = number("JOB_COMPLETION_INDEX", index)?;
    let Some(service) = &settings.k8s_service else {
        return Err(Error::Config(
            "a Kubernetes indexed Job needs the name of its headless Service, through which \
             the pods reach each other"
                .into(),
        ));
    };
    let Some(processes) = settings.processes else {
        return Err(Error::Config(
            "a Kubernetes indexed Job needs the number of processes (the Job's completions)".into(),
        ));
    };
    if process >= processes {
        return Err(Error::invalid_setting(
            "JOB_COMPLETION_INDEX",
            process,
            format!("below processes = {processes}"),
        ));
    }
    let job = match &settings.k8s_job_name {
        Some(job) => job.clone(),
        None => {
            let Some(host) = env.get("HOSTNAME") else {
                return Err(Error::Config(
                    "HOSTNAME is not set, so the Kubernetes Job's name is unknown: give it".into(),
                ));
            };
            match host.strip_suffix(&format!("-{process}")) {
                Some(job) if !job.is_empty() => job.to_string(),
                _ => {
                    return Err(Error::Config(format!(
                        "the pod's hostname {host:?} is not <job>-{process}, so the Kubernetes \
                         Job's name is unknown: give it"
                    )))
                }
            }
        }
    };
    for (name, value) in [("k8s_service", service), ("k8s_job_name", &job)] {
        if !is_dns_name(value) {
            return Err(Error::invalid_setting(
                name,
                format!("{value:?}"),
                "a DNS name (letters, digits, '-' and '.')",
            ));
        }
    }
    let addresses = (0..processes)
        .map(|i| format!("{job}-{i}.{service}:{}", settings.base_port))
        .collect();
    Ok(Some(Found {
        source: Source::Kubernetes,
        processes,
        process,
        addresses: Some(addresses),
    }))
}

/// Expands a Slurm hostlist: `node[01-03,07],gpu-a[1-2]` is `node01`, `node02`,
/// `node03`, `node07`, `gpu-a1`, `gpu-a2`. A range keeps the width of its first
/// number (`[08-10]`: `08`, `09`, `10`); several bracket groups in one name give
/// every combination (`r[1-2]n[1-2]`: `r1n1`, `r1n2`, `r2n1`, `r2n2`). An empty
/// list is no hosts.
pub fn expand_hostlist(list: &str) -> Result<Vec<String>> {
    let fail = |why: String| Error::Config(format!("hostlist {list:?}: {why}"));
    let mut hosts = Vec::new();
    if list.is_empty() {
        return Ok(hosts);
    }
    for item in split_top_level(list).map_err(fail)? {
        if item.is_empty() {
            return Err(fail("an empty host name".into()));
        }
        expand_item(item, &mut String::new(), &mut hosts).map_err(fail)?;
    }
    Ok(hosts)
}

/// Splits at the commas outside brackets.
fn split_top_level(list: &str) -> std::result::Result<Vec<&str>, String> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in list.char_indices() {
        match c {
            '[' if depth == 0 => depth = 1,
            '[' => return Err("brackets inside brackets".into()),
            ']' if depth == 1 => depth = 0,
            ']' => return Err(format!("a ']' without '[' at byte {i}")),
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            c if c.is_whitespace() || c.is_control() => {
                return Err(format!("a blank or control character at byte {i}"))
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '[' without ']'".into());
    }
    items.push(&list[start..]);
    Ok(items)
}

/// Appends every name `prefix` + `item` stands for to `out`.
fn expand_item(
    item: &str,
    prefix: &mut String,
    out: &mut Vec<String>,
) -> std::result::Result<(), String> {
    let Some(open) = item.find('[') else {
        if out.len() >= MAX_HOSTS {
            return Err(format!("more than {MAX_HOSTS} hosts"));
        }
        out.push(format!("{prefix}{item}"));
        return Ok(());
    };
    // `split_top_level` checked that brackets pair up without nesting.
    let close = open + item[open..].find(']').ok_or("a '[' without ']'")?;
    let (head, ranges, rest) = (&item[..open], &item[open + 1..close], &item[close + 1..]);
    let before = prefix.len();
    for range in ranges.split(',') {
        let (low, high) = range.split_once('-').unwrap_or((range, range));
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(low) || !digits(high) {
            return Err(format!("[{ranges}] holds {range:?}, not N or N-M"));
        }
        let (from, to): (u64, u64) = (low.parse().unwrap_or(0), high.parse().unwrap_or(0));
        if from > to {
            return Err(format!("the range {range} runs backwards"));
        }
        if to - from >= MAX_HOSTS as u64 {
            return Err(format!("more than {MAX_HOSTS} hosts"));
        }
        for n in from..=to {
            prefix.push_str(head);
            prefix.push_str(&format!("{n:0width$}", width = low.len()));
            expand_item(rest, prefix, out)?;
            prefix.truncate(before);
        }
    }
    Ok(())
}

/// Writes `hosts` as a hostlist that [`expand_hostlist`] turns back into the same
/// list: neighbours that differ only in a trailing number of the same width join
/// in one bracket group (`node01`, `node02`, `node03`, `node07` is
/// `node[01-03,07]`). Names must not hold `[`, `]`, `,` or blanks.
pub fn compress_hostlist(hosts: &[String]) -> String {
    let mut items = Vec::new();
    let mut i = 0;
    while i < hosts.len() {
        let (prefix, digits) = split_number(&hosts[i]);
        let mut numbers = vec![];
        let mut j = i;
        while j < hosts.len() {
            let (p, d) = split_number(&hosts[j]);
            if digits.is_empty() || p != prefix || d.len() != digits.len() || d.len() > 18 {
                break;
            }
            numbers.push(d.parse::<u64>().unwrap_or(0));
            j += 1;
        }
        if numbers.len() < 2 {
            items.push(hosts[i].clone());
            i += 1;
            continue;
        }
        let width = digits.len();
        let mut ranges = Vec::new();
        let mut k = 0;
        while k < numbers.len() {
            let mut end = k;
            while end + 1 < numbers.len() && numbers[end].checked_add(1) == Some(numbers[end + 1]) {
                end += 1;
            }
            ranges.push(if end == k {
                format!("{:0width$}", numbers[k])
            } else {
                format!("{:0width$}-{:0width$}", numbers[k], numbers[end])
            });
            k = end + 1;
        }
        items.push(format!("{prefix}[{}]", ranges.join(",")));
        i = j;
    }
    items.join(",")
}

/// A name and the decimal digits it ends with.
fn split_number(host: &str) -> (&str, &str) {
    let cut = host.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    host.split_at(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hostlists_expand_ranges_lists_and_padding() {
        assert_eq!(
            expand_hostlist("node[01-03,07],gpu-a[1-2]").expect("list"),
            strings(&["node01", "node02", "node03", "node07", "gpu-a1", "gpu-a2"])
        );
        assert_eq!(
            expand_hostlist("n[8-10]").expect("list"),
            strings(&["n8", "n9", "n10"])
        );
        assert_eq!(
            expand_hostlist("n[08-10]").expect("list"),
            strings(&["n08", "n09", "n10"])
        );
        assert_eq!(
            expand_hostlist("r[1-2]n[1-2]x,solo").expect("list"),
            strings(&["r1n1x", "r1n2x", "r2n1x", "r2n2x", "solo"])
        );
        assert_eq!(
            expand_hostlist("localhost").expect("one"),
            strings(&["localhost"])
        );
        assert!(expand_hostlist("").expect("none").is_empty());
    }

    #[test]
    fn bad_hostlists_are_refused_with_the_reason() {
        for (list, why) in [
            ("node[1-3", "without ']'"),
            ("node1-3]", "without '['"),
            ("n[[1]]", "inside brackets"),
            ("n[3-1]", "runs backwards"),
            ("n[a-b]", "not N or N-M"),
            ("n[]", "not N or N-M"),
            ("a,,b", "empty host name"),
            ("a b", "blank"),
            ("n[0-99999999]", "more than 65536 hosts"),
            ("a[0-300]b[0-300]", "more than 65536 hosts"),
        ] {
            let e = expand_hostlist(list).expect_err(list).to_string();
            assert!(e.contains(why), "{list}: {e}");
        }
    }

    #[test]
    fn compression_groups_neighbours_of_one_width() {
        let hosts = strings(&[
            "node01", "node02", "node03", "node07", "gpu-a1", "gpu-a2", "x",
        ]);
        assert_eq!(compress_hostlist(&hosts), "node[01-03,07],gpu-a[1-2],x");
        assert_eq!(compress_hostlist(&strings(&["n9", "n10"])), "n9,n10");
        assert_eq!(compress_hostlist(&[]), "");
    }

    fn hosts() -> impl Strategy<Value = Vec<String>> {
        // Runs of numbered names (so ranges form), single names, and names
        // without a number.
        let run = ("[a-z][a-z-]{0,4}", 0u64..200, 1usize..5, 1usize..4).prop_map(
            |(prefix, start, len, width)| {
                (start..start + len as u64)
                    .map(|n| format!("{prefix}{n:0width$}"))
                    .collect::<Vec<_>>()
            },
        );
        let single = "[a-z][a-z0-9-]{0,6}".prop_map(|h| vec![h]);
        prop::collection::vec(prop_oneof![run, single], 0..8)
            .prop_map(|groups| groups.into_iter().flatten().collect())
    }

    proptest! {
        #[test]
        fn compressing_then_expanding_gives_the_list_back(hosts in hosts()) {
            let compressed = compress_hostlist(&hosts);
            prop_assert_eq!(expand_hostlist(&compressed).expect("expands"), hosts);
        }
    }

    #[test]
    fn tasks_per_node_repeats_counts() {
        assert_eq!(tasks_per_node("2(x3),1").expect("list"), vec![2, 2, 2, 1]);
        assert_eq!(tasks_per_node("4").expect("one"), vec![4]);
        for bad in ["2(x)", "(x3)", "2(3)", "a", "2(x0)", ""] {
            assert!(tasks_per_node(bad).is_err(), "{bad}");
        }
    }

    fn slurm_env(rank: &str) -> Env {
        env(&[
            ("SLURM_NTASKS", "7"),
            ("SLURM_PROCID", rank),
            ("SLURM_JOB_NODELIST", "node[01-03],gpu1"),
            ("SLURM_TASKS_PER_NODE", "2(x3),1"),
        ])
    }

    #[test]
    fn slurm_places_tasks_on_nodes_in_block_order() {
        let settings = LaunchSettings {
            base_port: 3000,
            ..LaunchSettings::default()
        };
        let placed = place(&settings, &slurm_env("3"))
            .expect("ok")
            .expect("slurm");
        assert_eq!(placed.source, Source::Slurm);
        assert_eq!((placed.process, placed.processes), (3, 7));
        assert_eq!(
            placed.addresses,
            Addresses::Listed(strings(&[
                "node01:3000",
                "node01:3001",
                "node02:3000",
                "node02:3001",
                "node03:3000",
                "node03:3001",
                "gpu1:3000"
            ]))
        );
        let line = placed.to_string();
        assert!(line.starts_with("process 3 of 7 from Slurm"), "{line}");
        // The step's own variables win over the job's.
        let mut step = slurm_env("0");
        step.insert("SLURM_STEP_NUM_TASKS".into(), "2".into());
        step.insert("SLURM_STEP_NODELIST".into(), "node[05-06]".into());
        step.insert("SLURM_STEP_TASKS_PER_NODE".into(), "1(x2)".into());
        let placed = place(&settings, &step).expect("ok").expect("slurm");
        assert_eq!(
            placed.addresses,
            Addresses::Listed(strings(&["node05:3000", "node06:3000"]))
        );
    }

    #[test]
    fn slurm_variables_that_disagree_are_refused() {
        let settings = LaunchSettings::default();
        let with = |name: &str, value: &str| {
            let mut e = slurm_env("1");
            e.insert(name.into(), value.into());
            place(&settings, &e).expect_err(value).to_string()
        };
        assert!(with("SLURM_TASKS_PER_NODE", "2(x3)").contains("one count per node"));
        assert!(with("SLURM_TASKS_PER_NODE", "2(x4)").contains("adding up to SLURM_NTASKS = 7"));
        assert!(with("SLURM_PROCID", "7").contains("below SLURM_NTASKS = 7"));
        assert!(with("SLURM_PROCID", "x").contains("a whole number"));
        assert!(with("SLURM_DISTRIBUTION", "cyclic").contains("cyclic"));
        assert!(with("SLURM_JOB_NODELIST", "node[1-").contains("SLURM_JOB_NODELIST"));
        let mut e = slurm_env("1");
        e.remove("SLURM_TASKS_PER_NODE");
        assert!(place(&settings, &e)
            .expect_err("ambiguous")
            .to_string()
            .contains("cannot tell which task runs where"));
        // A count given explicitly must match the launcher's.
        let given = LaunchSettings {
            processes: Some(3),
            ..LaunchSettings::default()
        };
        let e = place(&given, &slurm_env("1")).expect_err("mismatch");
        assert!(
            matches!(
                e,
                Error::InvalidSetting {
                    name: "processes",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn nothing_set_is_a_single_process_run() {
        let settings = LaunchSettings::default();
        assert_eq!(place(&settings, &Env::new()).expect("ok"), None);
        // One task of a scheduler job, or a launcher of one process, too.
        let one = env(&[
            ("SLURM_NTASKS", "1"),
            ("SLURM_PROCID", "0"),
            ("SLURM_JOB_NODELIST", "node1"),
            ("OMPI_COMM_WORLD_SIZE", "1"),
            ("OMPI_COMM_WORLD_RANK", "0"),
            ("JOB_COMPLETION_INDEX", "4"),
            ("HOSTNAME", "dedup-4"),
        ]);
        assert_eq!(place(&settings, &one).expect("ok"), None);
        // A batch script's environment without srun's rank is no task.
        let batch = env(&[("SLURM_NTASKS", "4"), ("SLURM_JOB_NODELIST", "n[1-4]")]);
        assert_eq!(place(&settings, &batch).expect("ok"), None);
        // Told to ignore the environment, a Slurm task is a single process too.
        let none = LaunchSettings {
            launcher: Launcher::None,
            ..LaunchSettings::default()
        };
        assert_eq!(place(&none, &slurm_env("2")).expect("ok"), None);
    }

    #[test]
    fn explicit_settings_win_over_the_environment() {
        let settings = LaunchSettings {
            processes: Some(2),
            process: Some(1),
            ..LaunchSettings::default()
        };
        let placed = place(&settings, &slurm_env("3"))
            .expect("ok")
            .expect("placed");
        assert_eq!(placed.source, Source::Settings);
        assert_eq!((placed.process, placed.processes), (1, 2));
        assert_eq!(placed.addresses, Addresses::Loopback(DEFAULT_BASE_PORT));
        let out = LaunchSettings {
            processes: Some(2),
            process: Some(2),
            ..LaunchSettings::default()
        };
        let e = place(&out, &Env::new()).expect_err("out of range");
        assert!(
            matches!(
                e,
                Error::InvalidSetting {
                    name: "process",
                    ..
                }
            ),
            "{e}"
        );
        let missing = LaunchSettings {
            processes: Some(3),
            ..LaunchSettings::default()
        };
        let e = place(&missing, &Env::new())
            .expect_err("no index")
            .to_string();
        assert!(e.contains("needs each process's index (0 to 2)"), "{e}");
        // A forced launcher whose variables are missing is an error, not a
        // silent single-process run.
        let forced = LaunchSettings {
            launcher: Launcher::Slurm,
            ..LaunchSettings::default()
        };
        let e = place(&forced, &Env::new())
            .expect_err("no slurm")
            .to_string();
        assert!(e.contains("none of its variables is set"), "{e}");
        let high = LaunchSettings {
            processes: Some(2),
            process: Some(0),
            base_port: 65535,
            ..LaunchSettings::default()
        };
        let e = place(&high, &Env::new()).expect_err("ports");
        assert!(
            matches!(
                e,
                Error::InvalidSetting {
                    name: "base_port",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn mpi_launchers_give_count_and_rank_and_need_a_rendezvous() {
        let rendezvous = LaunchSettings {
            rendezvous: Some("head:5000".into()),
            ..LaunchSettings::default()
        };
        for (vars, source) in [
            (
                [("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "2")],
                Source::OpenMpi,
            ),
            ([("PMI_SIZE", "4"), ("PMI_RANK", "2")], Source::Pmi),
        ] {
            let placed = place(&rendezvous, &env(&vars)).expect("ok").expect("mpi");
            assert_eq!(placed.source, source);
            assert_eq!((placed.process, placed.processes), (2, 4));
            assert_eq!(placed.addresses, Addresses::Rendezvous("head:5000".into()));
            let e = place(&LaunchSettings::default(), &env(&vars))
                .expect_err("no hosts")
                .to_string();
            assert!(e.contains("names no hosts"), "{e}");
        }
        // PMIx gives the rank only; the count comes from the settings.
        let pmix = env(&[("PMIX_RANK", "1")]);
        assert_eq!(place(&LaunchSettings::default(), &pmix).expect("ok"), None);
        let forced = LaunchSettings {
            launcher: Launcher::Mpi,
            ..rendezvous.clone()
        };
        let e = place(&forced, &pmix).expect_err("no count").to_string();
        assert!(e.contains("gives no process count"), "{e}");
        let counted = LaunchSettings {
            processes: Some(3),
            ..rendezvous.clone()
        };
        let placed = place(&counted, &pmix).expect("ok").expect("pmix");
        assert_eq!(
            (placed.source, placed.process, placed.processes),
            (Source::Pmix, 1, 3)
        );
        let bad = env(&[("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "2")]);
        let e = place(&rendezvous, &bad).expect_err("rank").to_string();
        assert!(e.contains("below OMPI_COMM_WORLD_SIZE = 2"), "{e}");
    }

    #[test]
    fn kubernetes_indexed_jobs_name_pods_through_the_service() {
        let settings = LaunchSettings {
            processes: Some(3),
            k8s_service: Some("dedup".into()),
            base_port: 2200,
            ..LaunchSettings::default()
        };
        let pod = env(&[
            ("JOB_COMPLETION_INDEX", "1"),
            ("HOSTNAME", "neardedup-run-1"),
        ]);
        let placed = place(&settings, &pod).expect("ok").expect("k8s");
        assert_eq!(placed.source, Source::Kubernetes);
        assert_eq!(
            placed.addresses,
            Addresses::Listed(strings(&[
                "neardedup-run-0.dedup:2200",
                "neardedup-run-1.dedup:2200",
                "neardedup-run-2.dedup:2200"
            ]))
        );
        let named = LaunchSettings {
            k8s_job_name: Some("other".into()),
            ..settings.clone()
        };
        let placed = place(&named, &pod).expect("ok").expect("k8s");
        assert!(matches!(&placed.addresses, Addresses::Listed(l) if l[0] == "other-0.dedup:2200"));
        let wrong_host = env(&[("JOB_COMPLETION_INDEX", "1"), ("HOSTNAME", "somewhere")]);
        let e = place(&settings, &wrong_host).expect_err("host").to_string();
        assert!(e.contains("is not <job>-1"), "{e}");
        let uncounted = LaunchSettings {
            processes: None,
            ..settings.clone()
        };
        let e = place(&uncounted, &pod).expect_err("count").to_string();
        assert!(e.contains("number of processes"), "{e}");
        let high = env(&[("JOB_COMPLETION_INDEX", "3"), ("HOSTNAME", "j-3")]);
        assert!(place(&settings, &high).is_err());
    }

    #[test]
    fn addresses_are_checked() {
        for good in ["node1:2101", "10.0.0.1:80", "[::1]:2101", "a-b.svc.local:1"] {
            assert!(is_address(good), "{good}");
        }
        let long = format!("{}:1", "a".repeat(300));
        for bad in [
            "node1",
            ":80",
            "host:0",
            "host:99999",
            "ho st:1",
            "[zz]:1",
            &long,
        ] {
            assert!(!is_address(bad), "{bad}");
        }
    }
}
