//! Process memory figures for reports: peak resident set size.
//!
//! Read from `/proc/self/status` (`VmHWM`, the kernel's high-water mark of resident
//! memory) on Linux; `None` elsewhere. Memory-mapped input pages that are resident
//! count here too, so the figure is an upper bound on what the run itself allocated.

/// Peak resident set size of this process in bytes, where the OS reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    status_field_kib("VmHWM:").map(|kib| kib * 1024)
}

fn status_field_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn peak_rss_is_reported_and_plausible() {
        let peak = super::peak_rss_bytes().expect("linux reports VmHWM");
        assert!(
            peak > 1 << 20,
            "a test process uses more than 1 MiB: {peak}"
        );
    }
}
