//! `objectives-worker --listen 127.0.0.1:3001`: serves this machine's Flex device to remote
//! clients through burn's remote backend (WebSocket), for data-parallel `fit` across machines
//! (`FitOptions::devices`, `fcn --workers ws://host:port,…`). It listens only on the address it
//! is given (port 0 picks a free port) and prints `listening on ADDR` once it does.
//!
//! Built with the `remote` feature: `cargo run --release -p objectives-fit --features remote
//! --bin objectives-worker -- --listen 127.0.0.1:3001`.

use std::io::Write;
use std::process::ExitCode;

use burn::tensor::Device;
use burn::tensor::server::{RemoteServer, WebSocketTransport};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let listen = match args.iter().position(|a| a == "--listen").and_then(|i| args.get(i + 1)) {
        Some(a) => a.clone(),
        None => {
            eprintln!("error: usage: objectives-worker --listen HOST:PORT (e.g. 127.0.0.1:3001; port 0 picks one)");
            return ExitCode::from(2);
        }
    };
    let listener = match std::net::TcpListener::bind(&listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or(listen);
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
    match RemoteServer::new([Device::flex()]).serve(WebSocketTransport::from_listener(listener)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the worker on {addr} stopped: {e}");
            ExitCode::from(1)
        }
    }
}
