//! The load generator (`load`): many clients in one room, each sending and all reading, and
//! a report of what arrived, how fast and how late.
//!
//! - [`run`] checks the target ([`system::target`]: loopback only, unless `--allow-remote`)
//!   and the file descriptor limit, then runs the lines ([`run_lines`]) or, with `--idle`,
//!   holds idle clients ([`run_idle`]), and prints the [`report`].
//! - [`fleet`] gets each client into the room (the username prompt, the welcome); the first
//!   client finds out whether the server asks for names at all (chapter 4 does not).
//! - [`clients`]: every measured client has a reader thread, which accounts for each line in
//!   a [`tally::Tally`], and a writer thread, which sends its lines as fast as possible or on a
//!   schedule. [`wire`] is the format of the lines.
//! - Every wait is bounded: each step of joining, the wait for the room to fill, the drain of
//!   missing lines (`--drain`), and the whole run (`--time-limit`).

pub mod clients;
pub mod fleet;
pub mod report;
pub mod system;
pub mod tally;
pub mod wire;

use std::io::IsTerminal;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::LoadArgs;
use clients::{ReadSpec, Shared, WriteSpec};
use fleet::{JoinError, Joined, Mode};
use report::{IdleReport, LinesReport};
use system::ServerUse;
use tally::{Counts, Tally};

/// How often the main thread looks at the run's progress.
const TICK: Duration = Duration::from_millis(10);

/// How often, while waiting for the room to fill, a probe line is sent (chapter 4's servers).
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// File descriptors kept for everything but the clients (standard streams, the terminal, ...).
const SPARE_DESCRIPTORS: u64 = 32;

/// A reader or idle thread's stack: they hold little, and a run may start thousands.
const SMALL_STACK: usize = 256 * 1024;

/// Why a run could not be made: the message to print and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: u8,
}

impl Failure {
    /// A failure to run (status 1).
    pub fn run(message: String) -> Failure {
        Failure { message, status: 1 }
    }

    /// A usage error (status 2, as for a bad command line).
    pub fn usage(message: String) -> Failure {
        Failure { message, status: 2 }
    }
}

/// Runs the load generator; returns the process's exit status.
pub fn run(args: &LoadArgs) -> ExitCode {
    let outcome = prepare(args).and_then(|addr| {
        if args.idle > 0 {
            run_idle(args, addr).map(|report| (report.table(), report.json(), report.cut_short))
        } else {
            run_lines(args, addr).map(|report| (report.table(), report.json(), report.cut_short))
        }
    });
    match outcome {
        Ok((table, json, cut_short)) => {
            if args.json {
                say!("{json}");
            } else {
                say!("{}", table.trim_end());
            }
            if cut_short {
                say_err!(
                    "error: the time limit ({} s) passed before the run was over; the report \
                     above is partial (raise --time-limit)",
                    args.time_limit.as_secs_f64()
                );
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            say_err!("{}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

/// Checks the target and the descriptor limit, and that the server's process can be watched.
fn prepare(args: &LoadArgs) -> Result<SocketAddr, Failure> {
    let addr = system::target(&args.addr, args.allow_remote)?;
    let clients = if args.idle > 0 {
        u64::from(args.idle)
    } else {
        u64::from(args.clients) + u64::from(args.stalled)
    };
    system::allow_descriptors(clients, clients + SPARE_DESCRIPTORS)?;
    if let Some(pid) = args.server_pid {
        watch(pid)?;
    }
    Ok(addr)
}

/// Reads the server's use from `/proc/PID`, or says why it cannot.
fn watch(pid: u32) -> Result<ServerUse, Failure> {
    system::server_use(pid).map_err(|err| {
        Failure::run(format!(
            "error: reading the server's use from /proc/{pid}: {err} (is {pid} the server's \
             process id?)"
        ))
    })
}

/// The run's clients' sockets; dropping it stops the run's threads (every socket is shut down).
struct Fleet {
    shared: Arc<Shared>,
    streams: Vec<Arc<TcpStream>>,
}

impl Fleet {
    /// Ends the run: from now on a closed connection is no disconnection, and every thread
    /// blocked on a socket wakes up.
    fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for stream in &self.streams {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Joins client `index` of `total` (for the messages) as `name`.
fn join_one(
    args: &LoadArgs,
    addr: SocketAddr,
    name: &str,
    (index, total): (u32, u32),
    mode: &mut Option<Mode>,
    deadline: Instant,
) -> Result<Joined, Failure> {
    fleet::join(addr, name, &args.prefix, mode, deadline).map_err(|err| {
        let got_in = format!("{index} of {total} clients got in");
        Failure::run(match err {
            JoinError::Connect(err) if index == 0 => format!(
                "error: cannot connect to {}: {err} (is the server running?)",
                args.addr
            ),
            JoinError::Connect(err) => format!(
                "error: connecting client {} of {total}: {err} ({got_in})",
                index + 1
            ),
            JoinError::Refused(line) if line.starts_with("error: server is full") => format!(
                "error: logging in client {} of {total}: the server said '{line}': {got_in} \
                 (start the server with --max-clients {total} or more)",
                index + 1
            ),
            JoinError::Refused(line) => format!(
                "error: logging in client {} of {total} as {name}: the server said '{line}' \
                 ({got_in})",
                index + 1
            ),
            JoinError::Other(what) => format!(
                "error: logging in client {} of {total}: {what} ({got_in})",
                index + 1
            ),
        })
    })
}

// ANCHOR: run_lines
/// Runs N clients sending M lines each, every client reading all the time; returns the report.
fn run_lines(args: &LoadArgs, addr: SocketAddr) -> Result<LinesReport, Failure> {
    let shared = Arc::new(Shared::new(args.clients));
    let deadline = shared.epoch + args.time_limit;
    let mut fleet = Fleet {
        shared: Arc::clone(&shared),
        streams: Vec::new(),
    };
    let total = args.stalled + args.clients;
    let mut mode = None;
    let mut spec = ReadSpec {
        clients: args.clients,
        lines: args.lines,
        size: usize::from(args.size),
        prefix: args.prefix.clone(),
        need_online: total,
        quickack: args.quickack,
    };
    let mut readers = Vec::new();
    // The stalled readers join first: they are in the room before anyone sends.
    for index in 0..total {
        let name = match index.checked_sub(args.stalled) {
            Some(me) => format!("{}-{me}", args.prefix),
            None => format!("{}-stalled-{index}", args.prefix),
        };
        let joined = join_one(args, addr, &name, (index, total), &mut mode, deadline)?;
        fleet.streams.push(Arc::clone(&joined.stream));
        if let Some(me) = index.checked_sub(args.stalled) {
            if mode == Some(Mode::Unnamed) {
                // No names, so no join notices: the room is complete once a probe from
                // client 0 has reached everyone else.
                spec.need_online = 1;
            }
            readers.push(spawn_reader(me, joined, &spec, &shared)?);
        }
    }
    let mode = mode.unwrap_or(Mode::Named);
    let streams: Vec<Arc<TcpStream>> = fleet.streams[args.stalled as usize..].to_vec();
    wait_for_room(args, mode, &streams[0], &shared, deadline)?;

    // Everyone is in: start the writers together, and watch.
    let writers = spawn_writers(args, &streams, &shared, deadline)?;
    let start = Instant::now();
    let cpu_before = system::own_cpu();
    let server_before = args.server_pid.map(watch).transpose()?;
    let watched = watch_run(args, &shared, start, deadline);
    fleet.stop();
    let own_cpu = cpu_before
        .zip(system::own_cpu())
        .map(|(a, b)| b.saturating_sub(a));

    let sent: Vec<u64> = writers.into_iter().map(|w| w.join().unwrap_or(0)).collect();
    let mut counts = Counts::default();
    let mut latency = tally::latency_histogram();
    let (mut lost, mut last) = (0, shared.nanos(start));
    for reader in readers {
        let tally: Tally = reader
            .join()
            .map_err(|_| Failure::run("error: a reader thread panicked".to_string()))?;
        counts.add(&tally.counts);
        lost += tally.lost(&sent);
        last = last.max(tally.last_delivery);
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = latency.add(&tally.latency);
    }
    let sent_total: u64 = sent.iter().sum();
    let first_error = shared
        .first_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    Ok(LinesReport {
        addr: args.addr.clone(),
        mode: mode.as_str(),
        clients: args.clients,
        lines: args.lines,
        size: usize::from(args.size),
        rate: args.rate,
        stalled: args.stalled,
        sent: sent_total,
        expected: sent_total * u64::from(args.clients - 1),
        counts,
        lost,
        disconnections: shared
            .disconnected
            .iter()
            .filter(|d| d.load(Ordering::SeqCst))
            .count() as u64,
        first_error,
        duration: Duration::from_nanos(last.saturating_sub(shared.nanos(start))),
        latency,
        server: server_before
            .zip(watched.server)
            .map(|(before, peak)| ServerUse {
                cpu_s: peak.cpu_s - before.cpu_s,
                ..peak
            }),
        own_cpu,
        cut_short: watched.cut_short,
    })
}
// ANCHOR_END: run_lines

/// Starts client `me`'s reader thread.
fn spawn_reader(
    me: u32,
    joined: Joined,
    spec: &ReadSpec,
    shared: &Arc<Shared>,
) -> Result<JoinHandle<Tally>, Failure> {
    let (spec, shared) = (spec.clone(), Arc::clone(shared));
    let online = joined.online;
    thread::Builder::new()
        .name(format!("reader {me}"))
        .stack_size(SMALL_STACK)
        .spawn(move || clients::read_all(me, joined.lines, online, &spec, &shared))
        .map_err(|err| Failure::run(format!("error: starting a reader thread: {err}")))
}

/// Waits, within the time limit, until every reader sees everyone in the room. A server
/// without names sends no join notices, so client 0 sends probes until all others saw one.
fn wait_for_room(
    args: &LoadArgs,
    mode: Mode,
    first: &TcpStream,
    shared: &Shared,
    deadline: Instant,
) -> Result<(), Failure> {
    let needed = match mode {
        Mode::Named => args.clients,
        Mode::Unnamed => args.clients - 1,
    };
    let mut probe = 0u64;
    let mut next_probe = Instant::now();
    loop {
        let ready = shared.ready.load(Ordering::SeqCst);
        if ready >= needed {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Failure::run(format!(
                "error: waiting for everyone to be in the room: {ready} of {needed} clients saw \
                 the others arrive within the time limit ({} s)",
                args.time_limit.as_secs_f64()
            )));
        }
        if mode == Mode::Unnamed && now >= next_probe {
            use std::io::Write;
            let _ = (&*first).write_all(format!("P {probe}\n").as_bytes());
            probe += 1;
            next_probe = now + PROBE_EVERY;
        }
        thread::sleep(TICK);
    }
}

/// Starts one writer per client; they all begin at the same moment, when this returns.
fn spawn_writers(
    args: &LoadArgs,
    streams: &[Arc<TcpStream>],
    shared: &Arc<Shared>,
    deadline: Instant,
) -> Result<Vec<JoinHandle<u64>>, Failure> {
    let spec = WriteSpec {
        clients: args.clients,
        lines: args.lines,
        size: usize::from(args.size),
        rate: args.rate,
        deadline,
    };
    let gate = Arc::new(Gate::default());
    let mut writers = Vec::new();
    for (me, stream) in (0u32..).zip(streams) {
        let (stream, for_writer) = (Arc::clone(stream), Arc::clone(shared));
        let at_gate = Arc::clone(&gate);
        let writer = thread::Builder::new()
            .name(format!("writer {me}"))
            .stack_size(SMALL_STACK)
            .spawn(move || {
                at_gate.wait();
                clients::send_all(me, &stream, &spec, Instant::now(), &for_writer)
            });
        match writer {
            Ok(writer) => writers.push(writer),
            Err(err) => {
                // Release the ones started into a run that is already over.
                shared.stop.store(true, Ordering::SeqCst);
                gate.open();
                return Err(Failure::run(format!(
                    "error: starting a writer thread: {err}"
                )));
            }
        }
    }
    gate.open();
    Ok(writers)
}

/// A gate the writers wait at until every one of them is started.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    /// Blocks until the gate is open.
    fn wait(&self) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let _open = self
            .opened
            .wait_while(open, |open| !*open)
            .unwrap_or_else(PoisonError::into_inner);
    }

    /// Opens the gate for every thread waiting and every one to come.
    fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.opened.notify_all();
    }
}

/// What the main thread saw while the run went on.
struct Watched {
    /// The server's CPU time at the end, with the most memory and threads seen.
    server: Option<ServerUse>,
    cut_short: bool,
}

/// Waits until every line arrived, or the writers are done and `--drain` has passed, or the
/// time limit; shows progress on a terminal and samples the server.
fn watch_run(args: &LoadArgs, shared: &Shared, start: Instant, deadline: Instant) -> Watched {
    let expected = u64::from(args.clients) * u64::from(args.clients - 1) * u64::from(args.lines);
    let bar = progress_bar(expected);
    let mut drain_until = None;
    let mut server: Option<ServerUse> = None;
    let mut next_sample = start;
    let cut_short = loop {
        let now = Instant::now();
        let delivered = shared.deliveries.load(Ordering::Relaxed);
        bar.set_position(delivered);
        if let Some(pid) = args.server_pid.filter(|_| now >= next_sample) {
            if let Ok(used) = system::server_use(pid) {
                server = Some(match server {
                    Some(seen) => ServerUse {
                        cpu_s: used.cpu_s,
                        rss_kib: seen.rss_kib.max(used.rss_kib),
                        threads: seen.threads.max(used.threads),
                    },
                    None => used,
                });
            }
            next_sample = now + Duration::from_millis(250);
        }
        if delivered >= expected {
            break false;
        }
        if now >= deadline {
            break true;
        }
        if shared.writers_done.load(Ordering::SeqCst) == args.clients {
            let until = *drain_until.get_or_insert(now + args.drain);
            if now >= until {
                break false;
            }
        }
        thread::sleep(TICK);
    };
    if let Some(pid) = args.server_pid {
        if let (Ok(used), Some(seen)) = (system::server_use(pid), server.as_mut()) {
            seen.cpu_s = used.cpu_s;
        }
    }
    bar.finish_and_clear();
    Watched { server, cut_short }
}

/// A progress bar of deliveries on standard error, drawn only when it is a terminal.
fn progress_bar(expected: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(expected), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed:>4} [{bar:40}] {pos}/{len} deliveries ({per_sec})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

// ANCHOR: run_idle
/// Holds `--idle` logged-in clients for `--hold` seconds and reports the server's memory and
/// threads before and while they are connected.
fn run_idle(args: &LoadArgs, addr: SocketAddr) -> Result<IdleReport, Failure> {
    let shared = Arc::new(Shared::new(args.idle));
    let deadline = shared.epoch + args.time_limit;
    let before = args.server_pid.map(watch).transpose()?;
    let mut fleet = Fleet {
        shared: Arc::clone(&shared),
        streams: Vec::new(),
    };
    let mut mode = None;
    let mut drains = Vec::new();
    for index in 0..args.idle {
        let name = format!("{}-idle-{index}", args.prefix);
        let joined = join_one(args, addr, &name, (index, args.idle), &mut mode, deadline)?;
        fleet.streams.push(Arc::clone(&joined.stream));
        // Idle, but reading: the join notices of those after it must not fill its socket.
        let shared = Arc::clone(&shared);
        let drain = thread::Builder::new()
            .name(format!("idle {index}"))
            .stack_size(SMALL_STACK)
            .spawn(move || clients::discard_all(index, joined.lines, &shared))
            .map_err(|err| {
                Failure::run(format!("error: starting an idle client's thread: {err}"))
            })?;
        drains.push(drain);
    }
    let held_from = Instant::now();
    let until = (held_from + args.hold).min(deadline);
    thread::sleep(until.saturating_duration_since(held_from));
    let during = args.server_pid.map(watch).transpose()?;
    let held = held_from.elapsed();
    fleet.stop();
    for drain in drains {
        let _ = drain.join();
    }
    Ok(IdleReport {
        addr: args.addr.clone(),
        mode: mode.unwrap_or(Mode::Named).as_str(),
        idle: args.idle,
        held,
        disconnections: shared
            .disconnected
            .iter()
            .filter(|d| d.load(Ordering::SeqCst))
            .count() as u64,
        before,
        during,
        cut_short: held_from + args.hold > deadline,
    })
}
// ANCHOR_END: run_idle
