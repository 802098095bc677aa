//! `vmsim serve`: the interactive explorer, a local web server (`vmsim_web::serve`).
use anyhow::Result;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use vmsim_web::serve::{ServeOptions, Server};

/// Arguments of `vmsim serve`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  vmsim serve                 # http://127.0.0.1:8080/\n  \
    vmsim serve --port 0        # a free port, printed\n  \
    vmsim serve --bind ::1 --port 9000\n\n\
    The server answers only requests that name its address (not a DNS name), refuses \
    cross-origin writes, holds at most 64 machines and drops one idle for 30 minutes."
)]
pub struct Args {
    /// Port to listen on (0: a free one, printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on. The default is loopback only; another address makes the
    /// explorer reachable from other machines.
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
}

/// Runs `vmsim serve` until the process is stopped.
pub fn run(args: Args) -> Result<()> {
    let server = Server::start(ServeOptions::new(SocketAddr::new(args.bind, args.port)))?;
    // One write: a reader that stops after the URL line still sees the whole message.
    let mut msg = format!("vmsim explorer on {}\n", server.url());
    if !args.bind.is_loopback() {
        msg.push_str(&format!(
            "listening on {}: reachable from other machines (no TLS, no login)\n",
            args.bind
        ));
    }
    msg.push_str("stop it with Ctrl-C\n");
    let mut out = std::io::stdout().lock();
    out.write_all(msg.as_bytes())?;
    out.flush()?;
    drop(out);
    server.wait();
    Ok(())
}
