//! Process memory figures for reports: peak resident, anonymous and file-backed
//! memory.
//!
//! Read from `/proc/self/status` on Linux (`None` elsewhere). `VmHWM` is the
//! kernel's high-water mark of all resident memory, which counts resident pages of
//! memory-mapped inputs too. To tell what the run allocated from what it merely
//! mapped, a [`PeakSampler`] polls `RssAnon` (heap, stacks) and `RssFile` (mapped
//! files) on a background thread and keeps their maxima; a peak shorter than the
//! polling interval can be missed, so those two are lower bounds.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the sampler reads `/proc/self/status`.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(20);

/// Largest anonymous and file-backed resident sizes sampled since the last
/// [`take_stage_peaks`] (0 when no [`PeakSampler`] runs).
static STAGE_PEAK_ANON: AtomicU64 = AtomicU64::new(0);
static STAGE_PEAK_FILE: AtomicU64 = AtomicU64::new(0);

/// Peak memory of one stage of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StagePeaks {
    /// Largest anonymous resident memory (what the stage allocated, plus what
    /// earlier stages still hold).
    pub peak_anon_bytes: Option<u64>,
    /// Largest file-backed resident memory (mapped inputs and checkpoints).
    pub peak_file_bytes: Option<u64>,
}

/// The largest anonymous and file-backed resident memory seen since the previous
/// call (the peaks of the stage that just ended), including the current amounts;
/// `None` fields where they cannot be read. Samples come from a running
/// [`PeakSampler`].
pub fn take_stage_peaks() -> StagePeaks {
    let now = current_anon_and_file();
    let anon = STAGE_PEAK_ANON.swap(0, Ordering::Relaxed);
    let file = STAGE_PEAK_FILE.swap(0, Ordering::Relaxed);
    StagePeaks {
        peak_anon_bytes: now.map(|(a, _)| a.max(anon)),
        peak_file_bytes: now.map(|(_, f)| f.max(file)),
    }
}

/// Memory the system could give this process now (`MemAvailable`), where known.
pub fn available_bytes() -> Option<u64> {
    meminfo_bytes("MemAvailable:")
}

/// The machine's physical memory (`MemTotal`), where known.
pub fn total_bytes() -> Option<u64> {
    meminfo_bytes("MemTotal:")
}

/// One field of `/proc/meminfo`, in bytes.
fn meminfo_bytes(field: &str) -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map(|kib| kib * 1024)
}

/// Default memory budget of a run: a quarter of the available memory, between
/// 256 MiB and 1 GiB (1 GiB where the available memory is unknown). A larger
/// budget saves little time: past it, LSH bands are bucketed in a few more passes
/// and exact verification runs in a few more batches.
pub fn default_budget_bytes() -> u64 {
    const MIB: u64 = 1 << 20;
    available_bytes().map_or(1024 * MIB, |available| {
        (available / 4).clamp(256 * MIB, 1024 * MIB)
    })
}

/// Peak resident set size of this process in bytes, where the OS reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    status_fields_kib(&["VmHWM:"]).map(|v| v[0] * 1024)
}

/// Current anonymous and file-backed resident bytes.
fn current_anon_and_file() -> Option<(u64, u64)> {
    status_fields_kib(&["RssAnon:", "RssFile:"]).map(|v| (v[0] * 1024, v[1] * 1024))
}

fn status_fields_kib(fields: &[&str]) -> Option<Vec<u64>> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    fields
        .iter()
        .map(|field| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .collect()
}

/// Peak memory of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemoryPeaks {
    /// Kernel high-water mark of resident memory (all kinds).
    pub peak_rss_bytes: Option<u64>,
    /// Largest sampled anonymous resident memory (what the run allocated).
    pub peak_anon_bytes: Option<u64>,
    /// Largest sampled file-backed resident memory: mapped inputs, and the
    /// program's own code.
    pub peak_file_bytes: Option<u64>,
}

/// Polls anonymous and file-backed resident memory until stopped.
#[derive(Debug)]
pub struct PeakSampler {
    stop: Arc<AtomicBool>,
    anon: Arc<AtomicU64>,
    file: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl PeakSampler {
    /// Starts polling (a no-op where `/proc/self/status` cannot be read).
    pub fn start() -> PeakSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let anon = Arc::new(AtomicU64::new(0));
        let file = Arc::new(AtomicU64::new(0));
        let sample = {
            let (anon, file) = (Arc::clone(&anon), Arc::clone(&file));
            move || {
                if let Some((a, f)) = current_anon_and_file() {
                    anon.fetch_max(a, Ordering::Relaxed);
                    STAGE_PEAK_ANON.fetch_max(a, Ordering::Relaxed);
                    STAGE_PEAK_FILE.fetch_max(f, Ordering::Relaxed);
                    file.fetch_max(f, Ordering::Relaxed);
                }
            }
        };
        sample();
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("memory-sampler".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        sample();
                        std::thread::sleep(SAMPLE_INTERVAL);
                    }
                })
                .ok()
        };
        PeakSampler {
            stop,
            anon,
            file,
            thread,
        }
    }

    /// Stops polling and returns the peaks (with one last sample).
    pub fn finish(mut self) -> MemoryPeaks {
        self.halt();
        let last = current_anon_and_file();
        if let Some((a, f)) = last {
            self.anon.fetch_max(a, Ordering::Relaxed);
            self.file.fetch_max(f, Ordering::Relaxed);
        }
        let seen = |v: &AtomicU64| last.map(|_| v.load(Ordering::Relaxed));
        MemoryPeaks {
            peak_rss_bytes: peak_rss_bytes(),
            peak_anon_bytes: seen(&self.anon),
            peak_file_bytes: seen(&self.file),
        }
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PeakSampler {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn peak_rss_is_reported_and_plausible() {
        let peak = peak_rss_bytes().expect("linux reports VmHWM");
        assert!(
            peak > 1 << 20,
            "a test process uses more than 1 MiB: {peak}"
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn sampler_sees_a_large_allocation() {
        let sampler = PeakSampler::start();
        let before = current_anon_and_file().expect("linux").0;
        // Large beside what tests running alongside allocate and free (the
        // process's memory is sampled, theirs included).
        let block = vec![1u8; 256 << 20];
        std::thread::sleep(SAMPLE_INTERVAL * 3);
        std::hint::black_box(&block);
        drop(block);
        let peaks = sampler.finish();
        let anon = peaks.peak_anon_bytes.expect("sampled");
        assert!(
            anon >= before + (128 << 20),
            "peak anon {anon} vs before {before}"
        );
        assert!(peaks.peak_rss_bytes.expect("hwm") >= anon);
    }
}
