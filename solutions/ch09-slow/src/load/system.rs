//! What the load generator asks of the operating system: where it may connect, how many
//! sockets it may open, and (on Linux, from `/proc`) what the server and the generator itself
//! spend.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use super::Failure;

// ANCHOR: loopback
/// Resolves `addr` and refuses it unless every address it names is loopback, or `allow_remote`.
pub fn target(addr: &str, allow_remote: bool) -> Result<SocketAddr, Failure> {
    let resolved: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|err| Failure::run(format!("error: resolving {addr}: {err}")))?
        .collect();
    let Some(&first) = resolved.first() else {
        return Err(Failure::run(format!("error: resolving {addr}: no address")));
    };
    if let Some(remote) = resolved.iter().find(|a| !a.ip().is_loopback()) {
        if !allow_remote {
            return Err(Failure::usage(format!(
                "error: refusing to load {addr}: {} is not a loopback address (a load generator \
                 aimed at a server that is not yours is an attack; if the server is yours, \
                 pass --allow-remote)",
                remote.ip()
            )));
        }
    }
    Ok(first)
}
// ANCHOR_END: loopback

/// Makes sure this process may open `needed` file descriptors for its `clients` connections,
/// raising its soft limit up to the hard one if needed; fails with how to raise it otherwise.
#[cfg(unix)]
pub fn allow_descriptors(clients: u64, needed: u64) -> Result<(), Failure> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and touches nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Ok(()); // Cannot tell; connecting will say so if it fails.
    }
    #[allow(
        clippy::unnecessary_cast,
        reason = "rlim_t is u64 on Linux, not on every Unix"
    )]
    let (soft, hard) = (limit.rlim_cur as u64, limit.rlim_max as u64);
    if soft >= needed {
        return Ok(());
    }
    if hard >= needed {
        limit.rlim_cur = needed as libc::rlim_t;
        // SAFETY: as above; raising the soft limit up to the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0 {
            return Ok(());
        }
    }
    Err(Failure::run(format!(
        "error: opening {clients} connections: they need about {needed} file descriptors and \
         this process may open {soft} (ulimit -n; hard limit {hard}); raise the limit with `ulimit -n {needed}` in this shell (above \
         the hard limit: as root, or in /etc/security/limits.conf), or use fewer clients"
    )))
}

/// Elsewhere the limit is not ours to check.
#[cfg(not(unix))]
pub fn allow_descriptors(_clients: u64, _needed: u64) -> Result<(), Failure> {
    Ok(())
}

/// The CPU time this process has used so far, user and system.
#[cfg(unix)]
pub fn own_cpu() -> Option<Duration> {
    // SAFETY: an all-zero rusage is a valid value; getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a pointer to a struct we own.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Some(time(usage.ru_utime) + time(usage.ru_stime))
}

/// Elsewhere it is not measured.
#[cfg(not(unix))]
pub fn own_cpu() -> Option<Duration> {
    None
}

/// Asks the kernel to acknowledge what has arrived at once, not after its delayed-ACK timer
/// (`TCP_QUICKACK`; Linux clears it again by itself, so it is set after every read).
#[cfg(target_os = "linux")]
pub fn quickack(stream: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: a valid socket and a pointer to an int that outlives the call.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Elsewhere there is no such option: acknowledgements stay as they are.
#[cfg(not(target_os = "linux"))]
pub fn quickack(_stream: &std::net::TcpStream) {}

/// What the server process uses, read from `/proc/PID`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerUse {
    /// CPU time so far, user and system, in seconds.
    pub cpu_s: f64,
    /// Resident memory, in KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Threads (`Threads`).
    pub threads: u64,
}

// ANCHOR: proc
/// Reads the server's CPU time, resident memory and threads from `/proc/PID`.
#[cfg(target_os = "linux")]
pub fn server_use(pid: u32) -> std::io::Result<ServerUse> {
    use std::io::{Error, ErrorKind};
    let malformed = |what: &str| Error::new(ErrorKind::InvalidData, format!("no {what}"));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    // Then field 3 is the state, and fields 14 and 15 are utime and stime in clock ticks.
    let after_name = stat
        .rsplit_once(')')
        .ok_or_else(|| malformed("command name"))?
        .1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let (utime, stime) = ticks(11).zip(ticks(12)).ok_or_else(|| malformed("utime"))?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse::<u64>().ok())
    };
    Ok(ServerUse {
        cpu_s: (utime + stime) as f64 / per_second,
        rss_kib: field("VmRSS:").ok_or_else(|| malformed("VmRSS"))?,
        threads: field("Threads:").ok_or_else(|| malformed("Threads"))?,
    })
}
// ANCHOR_END: proc

/// Elsewhere there is no `/proc` to read.
#[cfg(not(target_os = "linux"))]
pub fn server_use(_pid: u32) -> std::io::Result<ServerUse> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "--server-pid reads /proc, which only Linux has",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_loaded_by_default() {
        assert!(target("127.0.0.1:1", false).is_ok());
        assert!(target("[::1]:1", false).is_ok());
        let refused = target("192.0.2.1:1", false).unwrap_err();
        assert!(
            refused.message.contains("--allow-remote"),
            "{}",
            refused.message
        );
        assert!(target("192.0.2.1:1", true).is_ok());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_can_be_read_from_proc() {
        let used = server_use(std::process::id()).expect("/proc/self is readable");
        assert!(used.rss_kib > 0 && used.threads >= 1);
    }
}
