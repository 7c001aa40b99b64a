//! How the workers of a run talk to each other: the three operations every
//! stage after sketching is written against.
//!
//! - [`Exchange::shuffle`]: every worker hands over a batch of items, each with a
//!   destination worker, and gets back the items sent to it. Band keys, block
//!   keys, candidate pairs, signatures and labels move this way to the worker
//!   that owns their key.
//! - [`Exchange::all_gather`]: every worker contributes one value and receives
//!   all of them, in worker order (unit counts, line counts, statistics).
//! - [`Exchange::agree`]: a barrier that passes failures on, so that every
//!   worker stops together when one meets bad input.
//!
//! A single-process run is the one-worker case: [`Local`] does nothing but hand
//! each item back. A distributed run uses the timely implementation in
//! [`crate::distributed`]. The stages themselves ([`crate::pipeline`]) exist once
//! and cannot tell the two apart, which is why their results are the same.

use crate::error::{Error, Result};

/// What a message costs on the wire, for the exchanged-bytes count (the encoded
/// size, not counting framing).
pub trait WireSize {
    /// Bytes of the item once encoded.
    fn wire_size(&self) -> usize;
}

macro_rules! fixed_wire_size {
    ($($t:ty),*) => {$(
        impl WireSize for $t {
            fn wire_size(&self) -> usize {
                std::mem::size_of::<$t>()
            }
        }
    )*};
}
fixed_wire_size!(
    bool,
    u32,
    u64,
    (u32, u32),
    (u64, u32),
    (u64, u32, u32),
    (u64, u64),
    (u32, u64, u32),
    (u64, u64, u32),
    (u32, u32, f32),
    (u32, u32, u32, f32)
);

impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> usize {
        8 + self.iter().map(WireSize::wire_size).sum::<usize>()
    }
}

impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> usize {
        1 + self.as_ref().map_or(0, WireSize::wire_size)
    }
}

impl WireSize for (u64, u64, Vec<String>) {
    fn wire_size(&self) -> usize {
        16 + self.2.wire_size()
    }
}

impl WireSize for String {
    fn wire_size(&self) -> usize {
        8 + self.len()
    }
}

/// Items that can travel between workers: encodable, and counted on the wire.
pub trait Wire:
    serde::Serialize + serde::de::DeserializeOwned + Clone + Send + 'static + WireSize
{
}

impl<T> Wire for T where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + 'static + WireSize
{
}

/// One worker's side of a run's communication. Every worker calls the same
/// operations in the same order (bulk-synchronous rounds).
pub trait Exchange {
    /// This worker's index among all workers of all processes.
    fn index(&self) -> usize;

    /// Number of workers in all processes.
    fn peers(&self) -> usize;

    /// Workers in each process.
    fn workers_per_process(&self) -> usize;

    /// The process this worker runs in.
    fn process(&self) -> usize {
        self.index() / self.workers_per_process()
    }

    /// Whether this worker is the first of its process (the one that reads the
    /// process's memory peaks and shows its progress).
    fn first_in_process(&self) -> bool {
        self.index().is_multiple_of(self.workers_per_process())
    }

    /// Bytes sent to workers of other processes so far.
    fn remote_bytes(&self) -> u64;

    /// Sends every item to worker `destination(item) % peers` and returns the
    /// items every worker sent here, in no particular order.
    fn shuffle<D, R>(&mut self, items: Vec<D>, destination: R) -> Vec<D>
    where
        D: Wire,
        R: Fn(&D) -> usize + 'static;

    /// Every worker's `value`, in worker order.
    fn all_gather<T: Wire>(&mut self, value: T) -> Vec<T>;

    /// A barrier that passes on failure: every worker learns whether any worker's
    /// `result` is an error. A worker's own error comes back as it was; a failure
    /// elsewhere comes back as [`Error::Peer`] naming the first failed worker.
    fn agree<T>(&mut self, stage: &str, result: Result<T>) -> Result<T> {
        let message = result.as_ref().err().map(ToString::to_string);
        let all = self.all_gather(message);
        match result {
            Err(own) => Err(own),
            Ok(value) => match all.into_iter().enumerate().find_map(|(w, m)| Some((w, m?))) {
                Some((worker, message)) => Err(Error::Peer {
                    stage: stage.to_string(),
                    worker,
                    message,
                }),
                None => Ok(value),
            },
        }
    }
}

/// The exchange of a run with one worker: every item stays where it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Local;

impl Exchange for Local {
    fn index(&self) -> usize {
        0
    }

    fn peers(&self) -> usize {
        1
    }

    fn workers_per_process(&self) -> usize {
        1
    }

    fn remote_bytes(&self) -> u64 {
        0
    }

    fn shuffle<D, R>(&mut self, items: Vec<D>, _destination: R) -> Vec<D>
    where
        D: Wire,
        R: Fn(&D) -> usize + 'static,
    {
        items
    }

    fn all_gather<T: Wire>(&mut self, value: T) -> Vec<T> {
        vec![value]
    }

    fn agree<T>(&mut self, _stage: &str, result: Result<T>) -> Result<T> {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_worker_gets_back_what_it_sends_and_its_own_errors() {
        let mut ex = Local;
        assert_eq!(ex.shuffle(vec![3u32, 1, 2], |&x| x as usize), vec![3, 1, 2]);
        assert_eq!(ex.all_gather(7u64), vec![7]);
        let failed: Result<()> = Err(Error::Config("broken".into()));
        let message = ex.agree("test", failed).expect_err("fails").to_string();
        assert!(message.contains("broken"), "{message}");
        assert_eq!((ex.index(), ex.peers(), ex.process()), (0, 1, 0));
        assert!(ex.first_in_process());
    }
}
