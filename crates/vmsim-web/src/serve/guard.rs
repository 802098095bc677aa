//! Who may talk to the server, as Jupyter decides it: a local server is reachable from any page
//! the user visits, so a request must name the address served in its `Host` (a page served from
//! a DNS name that rebinds to 127.0.0.1 sends its own name and is refused), and a request that
//! changes anything must come from the explorer's own origin (`Origin`, which browsers send on
//! every cross-origin request, absent or equal to `http://HOST`) with a JSON body (which a
//! cross-origin form cannot send without a preflight the server never grants). No response
//! carries an `Access-Control-Allow-*` header.
use std::net::{IpAddr, SocketAddr};

/// The hosts and origins one server accepts.
#[derive(Debug, Clone)]
pub struct Guard {
    addr: SocketAddr,
}

impl Guard {
    /// The guard of a server listening on `addr`.
    pub fn new(addr: SocketAddr) -> Guard {
        Guard { addr }
    }

    /// Whether `host` (a `Host` header's value) names this server: its address and port, or
    /// `localhost` and the port when it listens on loopback. A server bound to every address
    /// (`0.0.0.0`, `::`) accepts any IP address with its port, never a name.
    pub fn host_ok(&self, host: &str) -> bool {
        let port = self.addr.port();
        let (name, p) = match split_host(host) {
            Some(x) => x,
            None => return false,
        };
        if p != port {
            return false;
        }
        let ip = self.addr.ip();
        if name.eq_ignore_ascii_case("localhost") {
            return ip.is_loopback() || ip.is_unspecified();
        }
        match name.parse::<IpAddr>() {
            Ok(named) => named == ip || ip.is_unspecified(),
            Err(_) => false,
        }
    }

    /// Whether a write may go on: no `Origin` (not a browser), or the explorer's own origin,
    /// `http://` and an accepted host.
    pub fn origin_ok(&self, origin: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(o) => o
                .strip_prefix("http://")
                .is_some_and(|host| self.host_ok(host)),
        }
    }
}

/// `name:port` or `[v6]:port` into its name and port; `None` without a port or with garbage.
fn split_host(host: &str) -> Option<(&str, u16)> {
    let host = host.trim();
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        (v6, after.strip_prefix(':')?)
    } else {
        host.rsplit_once(':')?
    };
    if name.is_empty() || name.contains(['/', '@', ' ']) {
        return None;
    }
    Some((name, port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_accepts_its_address_and_localhost_only() {
        let g = Guard::new("127.0.0.1:8080".parse().unwrap());
        assert!(g.host_ok("127.0.0.1:8080"));
        assert!(g.host_ok("localhost:8080"));
        assert!(g.host_ok("LOCALHOST:8080"));
        for bad in [
            "127.0.0.1:8081",
            "evil.example:8080",
            "127.0.0.1",
            "127.0.0.1.nip.io:8080",
            "10.0.0.1:8080",
            "",
            "[::1]:8080",
        ] {
            assert!(!g.host_ok(bad), "{bad}");
        }
        assert!(g.origin_ok(None));
        assert!(g.origin_ok(Some("http://127.0.0.1:8080")));
        assert!(g.origin_ok(Some("http://localhost:8080")));
        assert!(!g.origin_ok(Some("http://evil.example")));
        assert!(!g.origin_ok(Some("null")));
        assert!(!g.origin_ok(Some("https://127.0.0.1:8080")));
    }

    #[test]
    fn every_address_accepts_addresses_never_names() {
        let g = Guard::new("0.0.0.0:9000".parse().unwrap());
        assert!(g.host_ok("192.168.1.4:9000"));
        assert!(g.host_ok("localhost:9000"));
        assert!(!g.host_ok("rebind.example:9000"));
        let g6 = Guard::new("[::1]:9000".parse().unwrap());
        assert!(g6.host_ok("[::1]:9000"));
        assert!(g6.host_ok("localhost:9000"));
    }
}
