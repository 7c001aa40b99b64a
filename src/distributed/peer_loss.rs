//! Noticing that a distributed run can no longer finish, and stopping its
//! workers instead of leaving them waiting.
//!
//! When another process dies or the network fails, timely's communication
//! threads panic with a message starting with "timely communication error" (its
//! documented way of taking a computation down), and a worker that then touches
//! the broken queues panics with "... poisoned". Nothing hands the workers an
//! error: they would wait for the lost messages forever. So the library installs,
//! once, a panic hook that records such a failure quietly and passes every other
//! panic on to the hook that was there before. The workers' wait loop calls
//! [`stop_if_failed`], which unwinds the worker with the [`STOP`] payload;
//! [`super::run`] catches that and returns [`lost_connection`]'s error.
//!
//! A worker that panics for any other reason records a failure too, so the
//! process's other workers stop rather than wait for it.
//!
//! The record is process-wide, as the hook is: it is cleared when a run starts
//! while no other run is active, and a failure stops every run of the process.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use crate::error::Error;

/// Payload of the panic that stops a worker of a run that cannot finish.
pub(crate) const STOP: &str = "neardedup: the distributed run cannot finish";

/// Words of the error for a lost connection, written once: the message is built
/// from them and [`is_lost_connection`] looks for them.
const LOST: &str = "lost its connection to another process of the distributed run";

/// What timely's communication threads panic with.
const COMMUNICATION_ERROR: &str = "timely communication error";

static INSTALL: Once = Once::new();
static FAILED: AtomicBool = AtomicBool::new(false);
static DETAIL: Mutex<Option<String>> = Mutex::new(None);
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Installs the recording hook, once per process, in front of the current one.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = payload_text(info.payload());
            if text == Some(STOP) {
                return;
            }
            if let Some(text) = text.filter(|t| t.contains(COMMUNICATION_ERROR)) {
                record(text);
                return;
            }
            if FAILED.load(Ordering::SeqCst) && text.is_some_and(|t| t.contains("poisoned")) {
                return;
            }
            previous(info);
        }));
    });
}

/// Marks a run as active for as long as it lives; the first of several
/// overlapping runs clears an old failure.
pub(crate) struct Active(());

impl Active {
    pub(crate) fn begin() -> Active {
        if ACTIVE.fetch_add(1, Ordering::SeqCst) == 0 {
            FAILED.store(false, Ordering::SeqCst);
            *DETAIL.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        Active(())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Records that the run cannot finish, keeping the first cause.
pub(crate) fn record(detail: &str) {
    let mut slot = DETAIL.lock().unwrap_or_else(|p| p.into_inner());
    if slot.is_none() {
        *slot = Some(detail.to_string());
    }
    FAILED.store(true, Ordering::SeqCst);
}

/// The first communication failure recorded, if any.
pub(crate) fn communication_failure() -> Option<String> {
    let detail = DETAIL.lock().unwrap_or_else(|p| p.into_inner()).clone();
    detail.filter(|d| d.contains(COMMUNICATION_ERROR))
}

/// Stops this worker (unwinding with [`STOP`]) once a failure is recorded.
pub(crate) fn stop_if_failed() {
    if FAILED.load(Ordering::Relaxed) {
        std::panic::panic_any(STOP);
    }
}

/// The text of a panic's payload, when it is text.
pub(crate) fn payload_text(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// The error of process `process` whose connection to another process broke
/// (`detail`: timely's own words).
pub(crate) fn lost_connection(process: usize, detail: &str) -> Error {
    Error::Distributed(format!(
        "process {process} {LOST} ({detail}): a process exited or the network failed. The run \
         did not finish; its output folder has no report.json and its parts are incomplete."
    ))
}

/// Whether `error` says a process lost its connection to another: the run may
/// be started again, and reuses the checkpoints each process kept.
pub fn is_lost_connection(error: &Error) -> bool {
    matches!(error, Error::Distributed(message) if message.contains(LOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lost_connection_error_is_recognised() {
        let e = lost_connection(3, "timely communication error: reading data: reset");
        assert!(is_lost_connection(&e));
        assert!(e
            .to_string()
            .contains("process 3 lost its connection to another process"));
        assert!(!is_lost_connection(&Error::Distributed("other".into())));
    }

    #[test]
    fn payload_text_reads_both_kinds_of_text() {
        let owned: Box<dyn std::any::Any + Send> = Box::new(String::from("a"));
        let fixed: Box<dyn std::any::Any + Send> = Box::new("b");
        let other: Box<dyn std::any::Any + Send> = Box::new(3u8);
        assert_eq!(payload_text(owned.as_ref()), Some("a"));
        assert_eq!(payload_text(fixed.as_ref()), Some("b"));
        assert_eq!(payload_text(other.as_ref()), None);
    }
}
