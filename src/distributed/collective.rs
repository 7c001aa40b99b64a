//! The timely implementation of [`crate::exchange::Exchange`], for runs over
//! several worker threads, processes or machines.
//!
//! Each operation is one small timely dataflow that every worker builds in the
//! same order: a shuffle is an input whose items timely routes to their
//! destination workers (serialising them and carrying them over TCP between
//! processes); an all-gather is a shuffle of one copy per worker. Items for the
//! worker itself never enter timely. Bytes sent to workers of other processes
//! are counted, so a run can say what it put on the network.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use timely::dataflow::channels::pact::Exchange as ExchangePact;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::Input;
use timely::worker::Worker;

use crate::exchange::{Exchange, Wire};

/// One worker's side of a distributed run's communication, over timely.
pub struct TimelyExchange<'w> {
    worker: &'w mut Worker,
    workers_per_process: usize,
    /// Bytes this worker sent to workers of other processes.
    remote_bytes: u64,
}

impl<'w> TimelyExchange<'w> {
    /// Wraps `worker`, whose process runs `workers_per_process` workers.
    pub fn new(worker: &'w mut Worker, workers_per_process: usize) -> Self {
        TimelyExchange {
            worker,
            workers_per_process: workers_per_process.max(1),
            remote_bytes: 0,
        }
    }
}

impl Exchange for TimelyExchange<'_> {
    fn workers_per_process(&self) -> usize {
        self.workers_per_process
    }

    fn index(&self) -> usize {
        self.worker.index()
    }

    fn peers(&self) -> usize {
        self.worker.peers()
    }

    fn remote_bytes(&self) -> u64 {
        self.remote_bytes
    }

    fn shuffle<D, R>(&mut self, items: Vec<D>, destination: R) -> Vec<D>
    where
        D: Wire,
        R: Fn(&D) -> usize + 'static,
    {
        let peers = self.peers();
        let (me, my_process) = (self.index(), self.process());
        let per_process = self.workers_per_process;
        // Items for this worker stay in memory; only the rest go through timely.
        let (kept, items): (Vec<D>, Vec<D>) = items
            .into_iter()
            .partition(|item| destination(item) % peers == me);
        self.remote_bytes += items
            .iter()
            .filter(|item| destination(item) % peers / per_process != my_process)
            .map(|item| item.wire_size() as u64)
            .sum::<u64>();
        let received: Rc<RefCell<Vec<D>>> = Rc::new(RefCell::new(Vec::new()));
        let done = Rc::new(Cell::new(false));
        let (sink, finished) = (Rc::clone(&received), Rc::clone(&done));
        let mut input = self.worker.dataflow::<u64, _, _>(move |scope| {
            let (input, stream) = scope.new_input::<Vec<D>>();
            let pact = ExchangePact::new(move |item: &D| (destination(item) % peers) as u64);
            stream.sink(pact, "Collect", move |(handle, frontier)| {
                handle.for_each(|_time, batch| sink.borrow_mut().append(batch));
                if frontier.is_empty() {
                    finished.set(true);
                }
            });
            input
        });
        let mut items = items;
        input.send_batch(&mut items);
        input.close();
        while !done.get() {
            super::peer_loss::stop_if_failed();
            self.worker.step();
        }
        let mut received = received.take();
        if received.is_empty() {
            return kept;
        }
        received.extend(kept);
        received
    }

    fn all_gather<T: Wire>(&mut self, value: T) -> Vec<T> {
        let peers = self.peers();
        let from = self.index() as u32;
        let copies: Vec<Gathered<T>> = (0..peers as u32)
            .map(|to| Gathered {
                to,
                from,
                value: value.clone(),
            })
            .collect();
        let mut got = self.shuffle(copies, |g: &Gathered<T>| g.to as usize);
        got.sort_by_key(|g| g.from);
        got.into_iter().map(|g| g.value).collect()
    }
}

/// An item of [`Exchange::all_gather`]: `value` from worker `from` to worker `to`.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Gathered<T> {
    to: u32,
    from: u32,
    value: T,
}

impl<T: crate::exchange::WireSize> crate::exchange::WireSize for Gathered<T> {
    fn wire_size(&self) -> usize {
        8 + self.value.wire_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Result};

    #[test]
    fn shuffles_deliver_every_item_to_its_destination_and_gathers_keep_worker_order() {
        let workers = 3;
        let guards = timely::execute(timely::Config::process(workers), move |worker| {
            let mut ex = TimelyExchange::new(worker, workers);
            let me = ex.index() as u32;
            // Every worker sends 0..30 tagged with itself; item i goes to i % 3.
            let items: Vec<(u32, u32)> = (0..30).map(|i| (i, me)).collect();
            let mut got = ex.shuffle(items, |&(i, _): &(u32, u32)| i as usize % 3);
            got.sort_unstable();
            let gathered = ex.all_gather(u64::from(me) * 10);
            let failure: Result<()> = if me == 1 {
                Err(Error::Config("broken on purpose".into()))
            } else {
                Ok(())
            };
            let agreed = ex.agree("test", failure).map_err(|e| e.to_string());
            (me, got, gathered, agreed, ex.remote_bytes())
        })
        .expect("timely");
        for result in guards.join() {
            let (me, got, gathered, agreed, remote) = result.expect("worker");
            let expected: Vec<(u32, u32)> = (0..30)
                .filter(|i| i % 3 == me)
                .flat_map(|i| (0..3).map(move |from| (i, from)))
                .collect();
            assert_eq!(got, expected, "worker {me}");
            assert_eq!(gathered, vec![0, 10, 20]);
            let message = agreed.expect_err("worker 1 failed");
            if me == 1 {
                assert!(message.contains("broken on purpose"), "{message}");
            } else {
                assert!(
                    message.contains("worker 1 of this distributed run failed in the test stage"),
                    "{message}"
                );
            }
            // One process: nothing crosses a process boundary.
            assert_eq!(remote, 0);
        }
    }
}
