//! Rendezvous: processes that know the run's size and their own index, but not
//! where the others are (as under an MPI launcher), find each other through
//! process 0.
//!
//! Process 0 listens on the rendezvous address. Every process, process 0
//! included, connects to it, picks a free port on the local address of that
//! connection (an address the others can reach, since process 0 could) and sends
//! one line:
//!
//! ```text
//! {"protocol":"neardedup-rendezvous/1","processes":3,"process":1,"address":"10.0.0.7:40211"}
//! ```
//!
//! Once all of them have arrived, process 0 answers each with the addresses in
//! process order, `{"addresses":["10.0.0.5:39101","10.0.0.7:40211",...]}`, the
//! list the dataflow then connects with. A process it refuses gets
//! `{"error":"..."}` and fails with that reason.
//!
//! Process 0 trusts nothing it reads: a line longer than [`MAX_HELLO_BYTES`] or
//! slower than [`HELLO_TIMEOUT`] is dropped, at most [`MAX_PENDING`] connections
//! are read at once, and an index out of range, an index that already arrived,
//! another process count, another protocol or a malformed address is refused
//! with its reason. So a stranger connecting can neither crash nor stall it.
//! If not every process has arrived within the timeout, process 0 fails naming
//! the missing indexes (and what it refused), and tells the waiting processes.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::address::{is_address, MAX_ADDRESS_LEN};

/// Names the protocol (and its version) in every greeting, so anything else that
/// connects is told apart.
pub const PROTOCOL: &str = "neardedup-rendezvous/1";

/// Longest greeting line: the JSON above with the longest address fits many
/// times over.
pub const MAX_HELLO_BYTES: usize = 1024;

/// Longest a connection may take to send its greeting.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Most connections whose greeting is read at the same time: one reading thread
/// each, so a flood of connections cannot start a flood of threads.
pub const MAX_PENDING: usize = 64;

/// Pause between attempts to reach process 0, which may start later.
const RETRY: Duration = Duration::from_millis(100);

/// Pause of process 0's loop when nothing is happening.
const POLL: Duration = Duration::from_millis(10);

/// Longest to try writing an answer to one process.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most refusals kept to explain a timeout.
const MAX_NOTES: usize = 8;

/// A process's greeting.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Hello {
    protocol: String,
    processes: usize,
    process: usize,
    address: String,
}

/// Process 0's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Reply {
    Addresses(Vec<String>),
    Error(String),
}

/// Meets the other processes of a run of `processes` at `rendezvous`
/// (`host:port`; process 0 listens there) and returns every process's
/// `host:port`, in process order, with this process's own at `process`. Waits at
/// most `timeout` for everyone.
pub fn exchange(
    rendezvous: &str,
    processes: usize,
    process: usize,
    timeout: Duration,
) -> Result<Vec<String>> {
    super::check_placement(processes, process)?;
    let deadline = Instant::now() + timeout;
    let server = if process == 0 {
        let listener = listen(rendezvous)?;
        let at = rendezvous.to_string();
        Some(
            std::thread::Builder::new()
                .name("neardedup-rendezvous".into())
                .spawn(move || serve(&listener, &at, processes, deadline))
                .map_err(|e| Error::Distributed(format!("could not start the rendezvous: {e}")))?,
        )
    } else {
        None
    };
    let joined = join(rendezvous, processes, process, timeout);
    match (joined, server) {
        (Ok(addresses), None) => Ok(addresses),
        // Process 0's own view explains a failure best (it names who is missing).
        (joined, Some(server)) => match server.join() {
            Ok(Err(e)) => Err(e),
            Ok(Ok(_)) => joined,
            Err(_) => Err(Error::Distributed("the rendezvous failed".into())),
        },
        (Err(e), None) => Err(e),
    }
}

/// Binds the rendezvous address, or the same port on every interface when the
/// name is not one of this machine's addresses (a name other machines resolve
/// differently).
fn listen(rendezvous: &str) -> Result<TcpListener> {
    let cannot = |e: std::io::Error| {
        Error::Distributed(format!(
            "process 0 cannot listen on the rendezvous address {rendezvous}: {e}"
        ))
    };
    let candidates: Vec<SocketAddr> = rendezvous.to_socket_addrs().map_err(cannot)?.collect();
    let mut last = std::io::Error::other("the name has no address");
    for address in &candidates {
        match TcpListener::bind(address) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    if last.kind() == std::io::ErrorKind::AddrNotAvailable {
        if let Some(address) = candidates.first() {
            let any: IpAddr = match address {
                SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
            };
            return TcpListener::bind((any, address.port())).map_err(cannot);
        }
    }
    Err(cannot(last))
}

/// A greeting read on its own thread, with the connection to answer on.
struct Arrival {
    stream: TcpStream,
    peer: SocketAddr,
    hello: std::result::Result<Hello, String>,
}

/// Process 0's side: gathers one greeting per process until `deadline` and
/// answers everyone with the list.
fn serve(
    listener: &TcpListener,
    at: &str,
    processes: usize,
    deadline: Instant,
) -> Result<Vec<String>> {
    listener.set_nonblocking(true).map_err(|e| {
        Error::Distributed(format!("rendezvous at {at}: cannot poll the listener: {e}"))
    })?;
    let (sender, arrivals) = mpsc::channel::<Arrival>();
    let pending = Arc::new(AtomicUsize::new(0));
    let mut arrived: Vec<Option<(TcpStream, String)>> = (0..processes).map(|_| None).collect();
    let mut notes: Vec<String> = Vec::new();
    let mut refused = 0usize;
    while arrived.iter().any(Option::is_none) {
        let now = Instant::now();
        if now >= deadline {
            let missing: Vec<usize> = (0..processes).filter(|&i| arrived[i].is_none()).collect();
            let mut message = format!(
                "rendezvous at {at}: process(es) {} of {processes} did not arrive in time",
                index_ranges(&missing)
            );
            if refused > 0 {
                message.push_str(&format!(
                    "; refused {refused} connection(s): {}",
                    notes.join("; ")
                ));
            }
            for (stream, _) in arrived.iter_mut().flatten() {
                answer(stream, &Reply::Error(message.clone()));
            }
            return Err(Error::Distributed(message));
        }
        let mut busy = false;
        match listener.accept() {
            Ok((stream, peer)) => {
                busy = true;
                if pending.load(Ordering::SeqCst) < MAX_PENDING {
                    pending.fetch_add(1, Ordering::SeqCst);
                    let (sender, reading) = (sender.clone(), Arc::clone(&pending));
                    let read_until = (now + HELLO_TIMEOUT).min(deadline);
                    let spawned = std::thread::Builder::new()
                        .name("neardedup-rendezvous-read".into())
                        .spawn(move || {
                            let mut stream = stream;
                            let hello = read_hello(&mut stream, read_until);
                            let _ = sender.send(Arrival {
                                stream,
                                peer,
                                hello,
                            });
                            reading.fetch_sub(1, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        pending.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                // Past the bound the connection is dropped unread.
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            // A connection that failed before it was accepted, or a full file
            // table: wait and go on.
            Err(_) => {}
        }
        while let Ok(mut arrival) = arrivals.try_recv() {
            busy = true;
            match admit(&arrival, &arrived, processes) {
                Ok(index) => {
                    let address = arrival
                        .hello
                        .as_ref()
                        .map(|h| h.address.clone())
                        .unwrap_or_default();
                    arrived[index] = Some((arrival.stream, address));
                }
                Err(why) => {
                    refused += 1;
                    if notes.len() < MAX_NOTES {
                        notes.push(format!("{}: {why}", arrival.peer));
                    }
                    answer(&mut arrival.stream, &Reply::Error(why));
                }
            }
        }
        if !busy {
            std::thread::sleep(POLL);
        }
    }
    let addresses: Vec<String> = arrived
        .iter()
        .map(|slot| slot.as_ref().map(|(_, a)| a.clone()).unwrap_or_default())
        .collect();
    let reply = Reply::Addresses(addresses.clone());
    for (stream, _) in arrived.iter_mut().flatten() {
        answer(stream, &reply);
    }
    Ok(addresses)
}

/// Which process a greeting is from, or why it is refused.
fn admit(
    arrival: &Arrival,
    arrived: &[Option<(TcpStream, String)>],
    processes: usize,
) -> std::result::Result<usize, String> {
    let hello = arrival.hello.as_ref().map_err(Clone::clone)?;
    if hello.protocol != PROTOCOL {
        return Err(format!(
            "speaks {:?}, not {PROTOCOL}",
            truncated(&hello.protocol)
        ));
    }
    if hello.processes != processes {
        return Err(format!(
            "process {} was started for a run of {} process(es), process 0 for {processes}",
            hello.process, hello.processes
        ));
    }
    if hello.process >= processes {
        return Err(format!(
            "process index {} is out of range: processes are numbered 0 to {}",
            hello.process,
            processes - 1
        ));
    }
    if !is_address(&hello.address) {
        return Err(format!(
            "process {} sent {:?}, not a host:port address",
            hello.process,
            truncated(&hello.address)
        ));
    }
    if let Some((first, _)) = &arrived[hello.process] {
        let from = first
            .peer_addr()
            .map_or_else(|_| "another connection".to_string(), |a| a.to_string());
        return Err(format!(
            "process index {} has already arrived (from {from}): two processes were given \
             the same index",
            hello.process
        ));
    }
    Ok(hello.process)
}

/// Writes one answer line, giving up quietly on a process that went away (it
/// fails on its own side).
fn answer(stream: &mut TcpStream, reply: &Reply) {
    let Ok(mut line) = serde_json::to_string(reply) else {
        return;
    };
    line.push('\n');
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.write_all(line.as_bytes());
    let _ = stream.flush();
}

/// Reads and parses one greeting.
fn read_hello(stream: &mut TcpStream, until: Instant) -> std::result::Result<Hello, String> {
    let line = read_line(stream, MAX_HELLO_BYTES, until)?;
    serde_json::from_slice::<Hello>(&line).map_err(|e| format!("not a rendezvous greeting ({e})"))
}

/// One line from `stream`, without its newline: at most `max` bytes, by `until`.
fn read_line(
    stream: &mut TcpStream,
    max: usize,
    until: Instant,
) -> std::result::Result<Vec<u8>, String> {
    let mut line = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("sent no complete line in time".into());
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("cannot read: {e}"))?;
        let n = match stream.read(&mut chunk) {
            Ok(0) => return Err("closed the connection before a complete line".into()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("sent no complete line in time".into())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read: {e}")),
        };
        line.extend_from_slice(&chunk[..n]);
        let end = line.iter().position(|&b| b == b'\n');
        if end.unwrap_or(line.len()) > max {
            return Err(format!("sent a line longer than {max} bytes"));
        }
        if let Some(end) = end {
            line.truncate(end);
            return Ok(line);
        }
        if line.len() > max {
            return Err(format!("sent a line longer than {max} bytes"));
        }
    }
}

/// A process's side: reaches process 0 (retrying until `deadline`, as it may
/// start later), says where it will listen, and waits for the list.
fn join(
    rendezvous: &str,
    processes: usize,
    process: usize,
    timeout: Duration,
) -> Result<Vec<String>> {
    let fail = |why: String| {
        Error::Distributed(format!(
            "process {process}: rendezvous at {rendezvous}: {why}"
        ))
    };
    let (mut stream, connected) = connect(rendezvous, Instant::now() + timeout).map_err(fail)?;
    let local = stream
        .local_addr()
        .map_err(|e| fail(format!("no local address: {e}")))?
        .ip();
    // A free port on the address the others reach this machine by. It is free
    // now; the dataflow binds it as soon as the list is known.
    let port = TcpListener::bind((local, 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| fail(format!("no free port on {local}: {e}")))?
        .port();
    let address = SocketAddr::new(local, port).to_string();
    let hello = Hello {
        protocol: PROTOCOL.to_string(),
        processes,
        process,
        address: address.clone(),
    };
    let mut line = serde_json::to_string(&hello).map_err(|e| fail(e.to_string()))?;
    line.push('\n');
    stream
        .set_write_timeout(Some(WRITE_TIMEOUT))
        .and_then(|()| stream.write_all(line.as_bytes()))
        .map_err(|e| fail(format!("cannot send this process's address: {e}")))?;
    // Process 0 answers by its own deadline, which is at most the timeout after
    // it started listening, so before this connection plus the timeout.
    let until = connected + timeout + WRITE_TIMEOUT;
    let max_reply = 64 + processes.saturating_mul(MAX_ADDRESS_LEN + 3);
    let reply = read_line(&mut stream, max_reply, until).map_err(|why| {
        fail(format!(
            "process 0 {why} (it fails too when not every process arrives; see its error)"
        ))
    })?;
    let reply: Reply = serde_json::from_slice(&reply)
        .map_err(|e| fail(format!("process 0 answered something else ({e})")))?;
    let addresses = match reply {
        Reply::Error(why) => return Err(fail(format!("refused: {}", truncated(&why)))),
        Reply::Addresses(addresses) => addresses,
    };
    if addresses.len() != processes
        || addresses[process] != address
        || !addresses.iter().all(|a| is_address(a))
    {
        return Err(fail(format!(
            "process 0 answered a list of {} address(es) that does not fit this run of \
             {processes} with this process at {address}",
            addresses.len()
        )));
    }
    Ok(addresses)
}

/// Connects to the rendezvous, retrying until `deadline`.
fn connect(
    rendezvous: &str,
    deadline: Instant,
) -> std::result::Result<(TcpStream, Instant), String> {
    let mut last = String::from("no attempt");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "could not reach process 0 in time ({last}): is process 0 running, and is the \
                 address reachable from here?"
            ));
        }
        match rendezvous.to_socket_addrs() {
            Ok(addresses) => {
                for address in addresses {
                    match TcpStream::connect_timeout(&address, left.min(Duration::from_secs(5))) {
                        Ok(stream) => return Ok((stream, Instant::now())),
                        Err(e) => last = e.to_string(),
                    }
                }
            }
            Err(e) => last = format!("cannot resolve the address: {e}"),
        }
        std::thread::sleep(RETRY.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// At most 100 characters of something read from outside, for a message.
fn truncated(text: &str) -> String {
    text.chars().take(100).collect()
}

/// Sorted indexes as ranges: `[1, 2, 3, 7]` is `1-3, 7`.
fn index_ranges(indexes: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indexes.len() {
        let mut end = i;
        while end + 1 < indexes.len() && indexes[end + 1] == indexes[end] + 1 {
            end += 1;
        }
        parts.push(if end == i {
            indexes[i].to_string()
        } else {
            format!("{}-{}", indexes[i], indexes[end])
        });
        i = end + 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback address with a port that was free a moment ago.
    fn free_address() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
        format!(
            "127.0.0.1:{}",
            listener.local_addr().expect("address").port()
        )
    }

    #[test]
    fn three_processes_get_the_same_list() {
        let at = free_address();
        // Process 0 starts last: the others retry until it listens.
        let others: Vec<_> = [2usize, 1]
            .into_iter()
            .map(|process| {
                let at = at.clone();
                std::thread::spawn(move || exchange(&at, 3, process, Duration::from_secs(20)))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let first = exchange(&at, 3, 0, Duration::from_secs(20)).expect("process 0");
        assert_eq!(first.len(), 3);
        for other in others {
            assert_eq!(other.join().expect("thread").expect("list"), first);
        }
        for address in &first {
            assert!(address.starts_with("127.0.0.1:"), "{address}");
        }
        let mut unique = first.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 3, "{first:?}");
    }

    #[test]
    fn a_missing_process_times_out_with_its_index_named() {
        let at = free_address();
        let one = {
            let at = at.clone();
            std::thread::spawn(move || exchange(&at, 3, 1, Duration::from_secs(20)))
        };
        let started = Instant::now();
        let e = exchange(&at, 3, 0, Duration::from_secs(2))
            .expect_err("process 2 never comes")
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            e.contains("process(es) 2 of 3 did not arrive in time"),
            "{e}"
        );
        // The process that came is told, instead of waiting on.
        let told = one
            .join()
            .expect("thread")
            .expect_err("no list")
            .to_string();
        assert!(told.contains("refused: rendezvous at"), "{told}");
        assert!(told.contains("2 of 3 did not arrive"), "{told}");
    }

    /// Sends `line` to the rendezvous at `at` and returns the answer line.
    fn say(at: &str, line: &str) -> String {
        let mut stream = TcpStream::connect(at).expect("connect");
        stream.write_all(line.as_bytes()).expect("send");
        let line = read_line(
            &mut stream,
            1 << 20,
            Instant::now() + Duration::from_secs(20),
        )
        .expect("answer");
        String::from_utf8(line).expect("UTF-8")
    }

    fn hello(processes: usize, process: usize, address: &str) -> String {
        format!(
            "{{\"protocol\":\"{PROTOCOL}\",\"processes\":{processes},\"process\":{process},\
             \"address\":\"{address}\"}}\n"
        )
    }

    #[test]
    fn duplicates_and_strangers_are_refused_and_the_run_goes_on() {
        let at = free_address();
        let listener = listen(&at).expect("listen");
        let server = {
            let at = at.clone();
            std::thread::spawn(move || {
                serve(&listener, &at, 2, Instant::now() + Duration::from_secs(20))
            })
        };
        // A stranger that connects and says nothing does not hold the others up.
        let silent = TcpStream::connect(&at).expect("connect");
        // One that sends garbage, an endless line, a wrong count, a bad index, a
        // bad address, another protocol: each is refused with its reason.
        let refusals = [
            ("GET / HTTP/1.1\r\n\r\n\n", "not a rendezvous greeting"),
            (
                &*format!("{}\n", "x".repeat(2000)),
                "longer than 1024 bytes",
            ),
            (
                &*hello(3, 1, "127.0.0.1:9"),
                "run of 3 process(es), process 0 for 2",
            ),
            (
                &*hello(2, 7, "127.0.0.1:9"),
                "process index 7 is out of range",
            ),
            (&*hello(2, 1, "nowhere"), "not a host:port address"),
            (
                &*hello(2, 1, "127.0.0.1:9").replace(PROTOCOL, "other/2"),
                "not neardedup-rendezvous/1",
            ),
        ];
        for (line, why) in refusals {
            let answer = say(&at, line);
            assert!(
                answer.contains("\"error\"") && answer.contains(why),
                "{answer}"
            );
        }
        // Process 1 arrives, then a second process 1 is refused as a duplicate.
        let first = {
            let at = at.clone();
            std::thread::spawn(move || say(&at, &hello(2, 1, "127.0.0.1:9")))
        };
        std::thread::sleep(Duration::from_millis(200));
        let duplicate = say(&at, &hello(2, 1, "127.0.0.1:10"));
        assert!(
            duplicate.contains("process index 1 has already arrived"),
            "{duplicate}"
        );
        let zero = say(&at, &hello(2, 0, "127.0.0.1:8"));
        let expected = "{\"addresses\":[\"127.0.0.1:8\",\"127.0.0.1:9\"]}";
        assert_eq!(zero, expected);
        assert_eq!(first.join().expect("thread"), expected);
        assert_eq!(
            server.join().expect("server").expect("list"),
            vec!["127.0.0.1:8", "127.0.0.1:9"]
        );
        drop(silent);
    }

    #[test]
    fn index_ranges_join_neighbours() {
        assert_eq!(index_ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(index_ranges(&[4]), "4");
    }
}
