//! `yamlett ui`: a read-only local dashboard over one store.
//!
//! The server ([`server`]) is tiny_http with a few worker threads, since the
//! library is blocking; the API ([`api`]) answers JSON under `/api`; the page,
//! its script and its styles ([`assets`]) are compiled into the binary, so the
//! dashboard needs no network. Every page URL answers the same page, whose
//! script draws the view the URL names.

mod api;
mod assets;
mod ejson;
mod host;
mod keys;
mod sample;
mod server;
mod status;

use std::net::ToSocketAddrs;

/// The port `yamlett ui` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8765;

/// Serves the dashboard for the store at `uri` (default: `YAMLETT_URI`,
/// then `./.yamlett`) on `host:port` until the process ends. Port 0 takes
/// a free port. Prints the URL it serves on stdout; warns on stderr when
/// `host` is not a loopback address, since run data then becomes readable
/// from that network.
pub fn serve(uri: Option<&str>, host: &str, port: u16) -> anyhow::Result<()> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|err| anyhow::anyhow!("cannot resolve --host {host:?}: {err}"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("--host {host:?} resolves to no address"))?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: serving on {addr}: the run data of this store becomes readable by anyone on that network"
        );
    }
    let dashboard = server::Dashboard::bind(uri, host, addr)?;
    // Scripts (the tests among them) read the URL from this line.
    println!("yamlett ui: serving {}", dashboard.url());
    dashboard.run()
}
