//! Devices on remote workers (`objectives-worker`), for data-parallel `fit` across machines: the
//! `remote` feature (burn's remote backend over WebSocket).
//!
//! ```no_run
//! # fn main() -> Result<(), objectives_fit::FitError> {
//! use std::time::Duration;
//! use objectives_fit::remote::{WorkerOptions, connect_workers_with};
//!
//! // Two `objectives-worker --listen …` processes; a step that waits more than a minute on one
//! // of them fails, naming it, instead of hanging.
//! let options = WorkerOptions { answer_timeout: Some(Duration::from_secs(60)), ..WorkerOptions::default() };
//! let devices = connect_workers_with(&["ws://10.0.0.2:3001".into(), "ws://10.0.0.3:3001".into()], &options)?;
//! let fit_options = objectives_fit::FitOptions { devices, ..Default::default() };
//! # let _ = fit_options;
//! # Ok(())
//! # }
//! ```
//!
//! # How a worker is watched
//!
//! burn's remote client has no timeout: a worker that keeps its connection open and stops
//! answering would block a step forever. So each worker's connection passes through a relay in
//! this process (a loopback TCP port, one per connected worker, copying bytes both ways and
//! counting them: [`traffic`]). `fit` gives each phase of a data-parallel step (forward; backward
//! with the gradients' transfer) [`WorkerOptions::answer_timeout`] per worker; a worker that has
//! not finished by then has its connection closed by the relay, which fails burn's waiting reads,
//! and `fit` returns [`FitError::Device`] naming the worker, without applying the step. A worker
//! that stops (its process ends, its machine goes away) closes the connection itself: the same
//! error, at once. A connected device is not reused after its connection closed: connect again
//! ([`connect_workers`] opens new sessions each time).
//!
//! Only `ws://` addresses: the relay passes bytes through, and a TLS (`wss://`) handshake would
//! name the relay rather than the worker.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, mpsc};
use std::time::Duration;

use burn::tensor::Device;
use burn::tensor::remote::RemoteHost;

use crate::error::{FitError, Result};

/// How to connect workers and how long to wait for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerOptions {
    /// How long a worker may take to accept its session (default 10 s).
    pub connect_timeout: Duration,
    /// How long one phase of a training step (the forward pass; the backward pass with the
    /// gradients' transfer) may wait on a worker before its connection is closed and `fit` fails
    /// with [`FitError::Device`] naming it (default 300 s: a first step may compile kernels on a
    /// GPU worker). `None` waits forever.
    pub answer_timeout: Option<Duration>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(10), answer_timeout: Some(Duration::from_secs(300)) }
    }
}

/// Bytes through a worker's connection since it was connected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// From this process to the worker (operations, tensors: the model's weights, the shards).
    pub sent: u64,
    /// From the worker to this process (values read back: gradients, losses, predictions).
    pub received: u64,
}

/// Connects an autodiff device on each worker (`ws://host:port`), each within `timeout`, with
/// the default [`WorkerOptions::answer_timeout`].
///
/// # Errors
/// As [`connect_workers_with`].
pub fn connect_workers(urls: &[String], timeout: Duration) -> Result<Vec<Device>> {
    connect_workers_with(urls, &WorkerOptions { connect_timeout: timeout, ..WorkerOptions::default() })
}

/// Connects an autodiff device on each worker (`ws://host:port`), one after another, each in a
/// new session.
///
/// # Errors
/// [`FitError::Config`] for an address that is not `ws://host:port`, and [`FitError::Device`]
/// naming the worker that cannot be reached (refused, unknown host, or no session within
/// `options.connect_timeout`).
pub fn connect_workers_with(urls: &[String], options: &WorkerOptions) -> Result<Vec<Device>> {
    if urls.is_empty() {
        return Err(FitError::Config("no worker addresses given (expected ws://host:port, …)".into()));
    }
    urls.iter().map(|url| connect(url, options)).collect()
}

/// Bytes sent to and received from the worker behind `device` so far; `None` for a device that
/// is not a connected worker.
pub fn traffic(device: &Device) -> Option<Traffic> {
    link_of(device)
        .map(|l| Traffic { sent: l.sent.load(Ordering::Relaxed), received: l.received.load(Ordering::Relaxed) })
}

/// The address (`ws://host:port`) of the worker behind `device`; `None` for a local device.
pub fn worker_url(device: &Device) -> Option<String> {
    link_of(device).map(|l| l.url.clone())
}

/// The answer timeout of the worker behind `device` (`None`: a local device, or no timeout).
pub(crate) fn answer_timeout(device: &Device) -> Option<Duration> {
    link_of(device).and_then(|l| l.answer_timeout)
}

/// Closes the connection of the worker behind `device`: burn's reads waiting on it fail.
pub(crate) fn interrupt(device: &Device) {
    if let Some(l) = link_of(device) {
        l.close();
    }
}

/// One worker's connection, through the relay.
struct Link {
    url: String,
    answer_timeout: Option<Duration>,
    /// The autodiff device connected through this link, once connected.
    device: OnceLock<Device>,
    /// The relay's listening address (to wake its accept loop when closing).
    relay: SocketAddr,
    /// Both ends of every relayed connection, to close them.
    streams: Mutex<Vec<TcpStream>>,
    closed: AtomicBool,
    sent: AtomicU64,
    received: AtomicU64,
}

impl Link {
    fn streams(&self) -> MutexGuard<'_, Vec<TcpStream>> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes every relayed connection and stops accepting new ones.
    fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        for s in self.streams().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wakes the accept loop, which sees `closed` and ends (dropping the listener).
        let _ = TcpStream::connect_timeout(&self.relay, Duration::from_secs(1));
    }
}

/// Every worker connected in this process (a handful; kept for the life of the process, as burn
/// keeps its remote devices).
fn links() -> MutexGuard<'static, Vec<Arc<Link>>> {
    static LINKS: Mutex<Vec<Arc<Link>>> = Mutex::new(Vec::new());
    LINKS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn link_of(device: &Device) -> Option<Arc<Link>> {
    links().iter().find(|l| l.device.get() == Some(device)).cloned()
}

/// `ws://host:port[/path]` → (`host:port`, `/path`).
fn parse(url: &str) -> Result<(&str, &str)> {
    let bad = |why: &str| FitError::Config(format!("worker address {url:?}: {why}; expected ws://host:port"));
    let rest = url.strip_prefix("ws://").ok_or_else(|| bad("only ws:// addresses are supported"))?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok((authority, path)),
        _ => Err(bad("no host:port")),
    }
}

fn connect(url: &str, options: &WorkerOptions) -> Result<Device> {
    let (authority, path) = parse(url)?;
    let unreachable = |reason: String| FitError::Device { device: format!("worker {url}"), reason };
    let target = authority
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {authority}: {e}")))?
        .next()
        .ok_or_else(|| unreachable(format!("{authority} resolves to no address")))?;
    // Reachable at all? (A clear "connection refused" rather than burn's handshake error.)
    TcpStream::connect_timeout(&target, options.connect_timeout).map_err(|e| {
        unreachable(format!(
            "cannot connect to {target}: {e}; is `objectives-worker --listen {authority}` running there?"
        ))
    })?;
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| unreachable(format!("cannot open a relay port: {e}")))?;
    let relay = listener.local_addr().map_err(|e| unreachable(format!("cannot open a relay port: {e}")))?;
    let link = Arc::new(Link {
        url: url.to_string(),
        answer_timeout: options.answer_timeout,
        device: OnceLock::new(),
        relay,
        streams: Mutex::new(Vec::new()),
        closed: AtomicBool::new(false),
        sent: AtomicU64::new(0),
        received: AtomicU64::new(0),
    });
    spawn_relay(listener, target, Arc::clone(&link), options.connect_timeout)
        .map_err(|e| unreachable(format!("cannot start the relay thread: {e}")))?;

    let (tx, rx) = mpsc::channel();
    let relayed = format!("ws://{relay}{path}");
    std::thread::spawn(move || {
        let _ = tx.send(Device::remote_options(&RemoteHost::websocket(&relayed)).init().map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(options.connect_timeout) {
        Ok(Ok(d)) => {
            let d = d.autodiff();
            let _ = link.device.set(d.clone());
            links().push(link);
            Ok(d)
        }
        Ok(Err(e)) => {
            link.close();
            Err(unreachable(format!("no session: {e}")))
        }
        Err(_) => {
            // Closing the relay fails the pending handshake: the connecting thread ends.
            link.close();
            Err(unreachable(format!(
                "accepted the connection but opened no session within {:?}; is it an `objectives-worker` \
                 (built with the same burn release)?",
                options.connect_timeout
            )))
        }
    }
}

/// The relay's accept loop: each connection burn opens to `listener` is joined to a new
/// connection to the worker at `target`, bytes copied both ways by two threads.
fn spawn_relay(listener: TcpListener, target: SocketAddr, link: Arc<Link>, connect: Duration) -> std::io::Result<()> {
    std::thread::Builder::new().name(format!("objectives-relay {}", link.url)).spawn(move || {
        for client in listener.incoming() {
            if link.closed.load(Ordering::SeqCst) {
                break;
            }
            let Ok(client) = client else { continue };
            let Ok(worker) = TcpStream::connect_timeout(&target, connect) else {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = worker.set_nodelay(true);
            let pumps = (|| -> std::io::Result<()> {
                link.streams().extend([client.try_clone()?, worker.try_clone()?]);
                let (l1, l2) = (Arc::clone(&link), Arc::clone(&link));
                let (c2, w2) = (client.try_clone()?, worker.try_clone()?);
                std::thread::Builder::new()
                    .name("objectives-relay up".into())
                    .spawn(move || pump(client, worker, &l1.sent))?;
                std::thread::Builder::new()
                    .name("objectives-relay down".into())
                    .spawn(move || pump(w2, c2, &l2.received))?;
                Ok(())
            })();
            if pumps.is_err() {
                link.close();
            }
        }
    })?;
    Ok(())
}

/// Copies `from` to `to`, counting bytes, until either side ends; then closes both, so that the
/// other direction (and burn's reads on it) ends too.
fn pump(mut from: TcpStream, mut to: TcpStream, count: &AtomicU64) {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn worker_addresses_are_ws_host_port() {
        assert_eq!(parse("ws://127.0.0.1:3001").ok(), Some(("127.0.0.1:3001", "")));
        assert_eq!(parse("ws://gpu-box:3001/x").ok(), Some(("gpu-box:3001", "/x")));
        for bad in ["127.0.0.1:3001", "wss://h:1", "ws://h", "ws://:1", "ws://h:port"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
