//! Bounds of the numeric command-line options that size a run's resources, each
//! written once and checked before any work starts.
//!
//! Without them a typing slip turns into a slow or dangerous run instead of an
//! error: `--threads 100000` starts a hundred thousand threads, `--memory-budget 0`
//! runs as if no budget were given, `--shard-size 1` writes one checkpoint per
//! record. Each check names the option, the value given and the range it takes.

use anyhow::bail;

/// Most worker threads per core: more only adds switching between threads.
pub const MAX_THREADS_PER_CORE: usize = 8;

/// Smallest memory budget: below this no stage can hold even one batch.
pub const MIN_MEMORY_BUDGET: u64 = 64_000;

/// Smallest shard: a checkpoint per few records costs more than it saves.
pub const MIN_SHARD_BYTES: u64 = 4096;

/// Longest wait for the processes of a distributed run to connect: a day.
pub const MAX_CONNECT_TIMEOUT_SECS: u64 = 24 * 60 * 60;

/// Most processes or workers per process of a distributed run.
pub const MAX_PROCESSES: usize = 4096;

/// Cores of this machine as the operating system offers them to the process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Checks `--threads` (0 means one per core) against [`MAX_THREADS_PER_CORE`].
pub fn check_threads(flag: &str, threads: usize) -> anyhow::Result<usize> {
    threads_within(flag, threads, cores())
}

fn threads_within(flag: &str, threads: usize, cores: usize) -> anyhow::Result<usize> {
    let most = cores * MAX_THREADS_PER_CORE;
    if threads > most {
        bail!(
            "{flag} {threads} is more than {MAX_THREADS_PER_CORE} per core: this machine \
             has {cores} core(s), so at most {most} (0: one per core)"
        );
    }
    Ok(threads)
}

/// Checks `--memory-budget`: at least [`MIN_MEMORY_BUDGET`], and no more than
/// the machine's memory where the system reports it.
pub fn check_memory_budget(budget: u64) -> anyhow::Result<u64> {
    memory_budget_within(budget, neardedup::memory::total_bytes())
}

fn memory_budget_within(budget: u64, total: Option<u64>) -> anyhow::Result<u64> {
    if budget < MIN_MEMORY_BUDGET {
        bail!("--memory-budget {budget} bytes is too small: at least {MIN_MEMORY_BUDGET} (64KB)");
    }
    if let Some(total) = total.filter(|&total| budget > total) {
        bail!(
            "--memory-budget {} is more than this machine's memory ({})",
            mib(budget),
            mib(total)
        );
    }
    Ok(budget)
}

/// Checks `--shard-size` against [`MIN_SHARD_BYTES`]. A shard larger than the
/// input is one shard, so there is no upper bound.
pub fn check_shard_size(shard: u64) -> anyhow::Result<u64> {
    if shard < MIN_SHARD_BYTES {
        bail!("--shard-size {shard} bytes is too small: at least {MIN_SHARD_BYTES} (4KiB)");
    }
    Ok(shard)
}

/// Checks a count of processes or workers of a distributed run.
pub fn check_count(flag: &str, count: usize) -> anyhow::Result<usize> {
    if count == 0 || count > MAX_PROCESSES {
        bail!("{flag} {count} is out of range: 1 to {MAX_PROCESSES}");
    }
    Ok(count)
}

/// Checks `--connect-timeout` (seconds).
pub fn check_connect_timeout(secs: u64) -> anyhow::Result<u64> {
    if secs == 0 || secs > MAX_CONNECT_TIMEOUT_SECS {
        bail!("--connect-timeout {secs} is out of range: 1 to {MAX_CONNECT_TIMEOUT_SECS} seconds");
    }
    Ok(secs)
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_beyond_eight_per_core_are_refused() {
        assert_eq!(threads_within("--threads", 0, 2).expect("0 = all cores"), 0);
        assert_eq!(threads_within("--threads", 16, 2).expect("8 per core"), 16);
        let err = threads_within("--threads", 100_000, 2).expect_err("too many");
        assert!(err.to_string().contains("at most 16"), "{err}");
    }

    #[test]
    fn a_zero_or_larger_than_memory_budget_is_refused() {
        assert!(memory_budget_within(0, None).is_err());
        assert!(memory_budget_within(MIN_MEMORY_BUDGET - 1, None).is_err());
        assert!(memory_budget_within(MIN_MEMORY_BUDGET, None).is_ok());
        let err = memory_budget_within(8 << 30, Some(4 << 30)).expect_err("above memory");
        assert!(err.to_string().contains("4096 MiB"), "{err}");
        assert!(memory_budget_within(1 << 30, Some(4 << 30)).is_ok());
    }

    #[test]
    fn a_shard_of_a_few_bytes_is_refused() {
        let err = check_shard_size(1).expect_err("one byte");
        assert!(err.to_string().contains("at least 4096"), "{err}");
        assert!(check_shard_size(MIN_SHARD_BYTES).is_ok());
    }

    #[test]
    fn distributed_counts_and_timeouts_have_ranges() {
        assert!(check_count("--processes", 0).is_err());
        assert!(check_count("--workers", MAX_PROCESSES + 1).is_err());
        assert_eq!(check_count("--processes", 3).expect("3"), 3);
        assert!(check_connect_timeout(0).is_err());
        assert!(check_connect_timeout(120).is_ok());
    }
}
