//! Devices on remote workers (`objectives-worker`), for data-parallel `fit` across machines: the
//! `remote` feature (burn's remote backend over WebSocket).

use std::sync::mpsc;
use std::time::Duration;

use burn::tensor::Device;
use burn::tensor::remote::RemoteHost;

use crate::error::{FitError, Result};

/// Connects an autodiff device on each worker (`ws://host:port`), each within `timeout`.
///
/// # Errors
/// [`FitError::Config`] naming the worker that cannot be reached (refused, or no answer within
/// `timeout`).
pub fn connect_workers(urls: &[String], timeout: Duration) -> Result<Vec<Device>> {
    urls.iter()
        .map(|url| {
            let (tx, rx) = mpsc::channel();
            let u = url.clone();
            std::thread::spawn(move || {
                let _ = tx.send(Device::remote_options(&RemoteHost::websocket(&u)).init().map_err(|e| e.to_string()));
            });
            match rx.recv_timeout(timeout) {
                Ok(Ok(d)) => Ok(d.autodiff()),
                Ok(Err(e)) => Err(FitError::Config(format!("worker {url}: cannot connect: {e}"))),
                Err(_) => Err(FitError::Config(format!(
                    "worker {url}: no answer within {timeout:?}; is `objectives-worker --listen …` running there?"
                ))),
            }
        })
        .collect()
}
