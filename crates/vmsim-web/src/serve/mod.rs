//! `vmsim serve`: the explorer, a local web server over the simulation library.
//!
//! A [`Server`] listens on one address (loopback unless its caller says otherwise) and answers
//! the explorer's page (`/`, its script and style sheet, embedded from `assets/`) and a JSON API
//! whose every answer is computed by `vmsim-sim` ([`api`]). The server keeps a bounded set of
//! machines, one per session, under random ids ([`sessions`]); it refuses requests that name
//! another host and cross-origin writes ([`guard`]). Requests are served by a few worker threads
//! over `tiny_http`'s synchronous server; [`Server::shutdown`] (or dropping the server) stops
//! them all.
pub mod api;
pub mod guard;
pub mod sessions;
pub mod state;

use crate::WebError;
use sessions::{Limits, Sessions};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

/// How a server is set up.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen (port 0: a free port the system picks).
    pub addr: SocketAddr,
    /// The bounds on machines, idle time and request bodies.
    pub limits: Limits,
    /// Threads answering requests.
    pub workers: usize,
}

impl ServeOptions {
    /// The defaults at `addr`: [`Limits::default`] and four workers.
    pub fn new(addr: SocketAddr) -> ServeOptions {
        ServeOptions {
            addr,
            limits: Limits::default(),
            workers: 4,
        }
    }
}

/// A running server. Dropping it stops it.
pub struct Server {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Binds `opts.addr` and starts answering.
    pub fn start(opts: ServeOptions) -> Result<Server, WebError> {
        let http = tiny_http::Server::http(opts.addr).map_err(|e| WebError::Bind {
            addr: opts.addr,
            message: e.to_string(),
        })?;
        let addr = http.server_addr().to_ip().ok_or_else(|| WebError::Bind {
            addr: opts.addr,
            message: "not an IP socket".into(),
        })?;
        let http = Arc::new(http);
        let sessions = Arc::new(Sessions::new(opts.limits.clone()));
        let guard = Arc::new(guard::Guard::new(addr));
        let workers = (0..opts.workers.max(1))
            .map(|_| {
                let (http, sessions, guard) = (http.clone(), sessions.clone(), guard.clone());
                let max_body = opts.limits.max_body;
                std::thread::spawn(move || {
                    // `recv` fails only when the server is unblocked: the signal to stop.
                    while let Ok(req) = http.recv() {
                        answer(req, &guard, &sessions, max_body);
                    }
                })
            })
            .collect();
        Ok(Server {
            http,
            addr,
            workers,
        })
    }

    /// The address it listens on (with the port the system chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The explorer's address, for a browser.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Answers until the process ends.
    pub fn wait(mut self) {
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }

    /// Stops answering and waits for the workers.
    pub fn shutdown(self) {
        drop(self)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for _ in &self.workers {
            self.http.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Reads one request, asks [`api::handle`], and sends the reply.
fn answer(mut req: tiny_http::Request, guard: &guard::Guard, sessions: &Sessions, max: usize) {
    let header = |name: &'static str| {
        req.headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_string())
    };
    let head = api::Head {
        method: req.method().as_str().to_ascii_uppercase(),
        target: req.url().to_string(),
        host: header("Host"),
        origin: header("Origin"),
        content_type: header("Content-Type"),
    };
    let declared = req.body_length();
    let reply = if declared.is_some_and(|n| n > max) {
        api::Reply::error(413, &format!("the request body is over {max} bytes"))
    } else {
        let mut body = Vec::new();
        match req.as_reader().take(max as u64 + 1).read_to_end(&mut body) {
            Ok(_) if body.len() > max => {
                api::Reply::error(413, &format!("the request body is over {max} bytes"))
            }
            Ok(_) => api::handle(&head, &body, guard, sessions),
            Err(e) => api::Reply::error(400, &format!("cannot read the request body: {e}")),
        }
    };
    let mut res = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (k, v) in reply.headers {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            res.add_header(h);
        }
    }
    let _ = req.respond(res);
}
