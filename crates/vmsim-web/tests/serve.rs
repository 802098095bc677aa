//! `vmsim serve`'s API over real sockets: a server started in this process on 127.0.0.1 with
//! port 0 (a free port), asked with a plain HTTP/1.1 client written here (so the tests can send
//! any Host, Origin or body), and stopped at the end of each test.
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use vmsim_core::config::MachineConfig;
use vmsim_core::AccessKind;
use vmsim_sim::Explainer;
use vmsim_web::serve::sessions::Limits;
use vmsim_web::serve::{ServeOptions, Server};

fn start(limits: Limits) -> Server {
    let mut opts = ServeOptions::new("127.0.0.1:0".parse().unwrap());
    opts.limits = limits;
    opts.workers = 2;
    Server::start(opts).unwrap()
}

/// A response: status and body.
struct Res {
    status: u16,
    body: String,
    head: String,
}

impl Res {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// A refusal: the status and a one-line `{"error": ...}`.
    fn refused(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(!self.body.contains('\n'), "one line: {}", self.body);
        self.json()["error"].as_str().unwrap().to_string()
    }
}

/// Sends one request with `headers` (a `Host` naming the server unless one is given).
fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Res {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Res {
        status,
        body: body.to_string(),
        head: head.to_string(),
    }
}

fn get(addr: SocketAddr, path: &str) -> Res {
    send(addr, "GET", path, &[], b"")
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> Res {
    let b = body.to_string();
    send(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        b.as_bytes(),
    )
}

fn new_machine(addr: SocketAddr, body: Value) -> String {
    let r = post(addr, "/api/machine", &body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

#[test]
fn a_machine_translates_and_shows_its_tlbs() {
    let server = start(Limits::default());
    let addr = server.addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let presets = get(addr, "/api/presets").json();
    let names: Vec<&str> = presets
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"zen4") && names.contains(&"teaching"),
        "{names:?}"
    );

    let id = new_machine(addr, json!({"preset": "zen4"}));
    assert_eq!(id.len(), 32);
    let path = format!("/api/machine/{id}/access");
    let va = "0x7ffd5c3e1a28";
    let first = post(addr, &path, &json!({"va": va, "kind": "read", "pid": 1}));
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();

    // The same document, event for event, as a fresh machine explains in this process, plus
    // the narration vmsim explain prints.
    let mut ex = Explainer::new(MachineConfig::preset("zen4").unwrap()).unwrap();
    let a = ex.access(1, 0x7ffd_5c3e_1a28, AccessKind::Read).unwrap();
    let narration = ex.narrate(&a);
    let want = serde_json::to_value(ex.explanation(vec![a])).unwrap();
    assert_eq!(first["accesses"], want["accesses"]);
    assert_eq!(first["machine"], "zen4");
    assert_eq!(first["narration"], json!(narration));
    assert!(first["split"].as_str().unwrap().contains("PML4 index 255"));
    let events = first["accesses"][0]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["event"] == "fault"));
    assert_eq!(events.last().unwrap()["pa"], "0x2a28");

    // The read mapped the shared zero page (frame 0x2); the write to the page hits the L1 data
    // TLB, faults on the read-only entry, and the state shows the page's own new frame.
    let second = post(
        addr,
        &path,
        &json!({"va": "0x7ffd5c3e1a30", "kind": "write"}),
    )
    .json();
    let events = second["accesses"][0]["events"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["event"] == "tlb_lookup" && e["tlb"] == "l1d" && e["hit"] == true));
    let state = get(addr, &format!("/api/machine/{id}/state")).json();
    let l1d = state["tlbs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["level"] == "l1d")
        .unwrap();
    assert_eq!(l1d["capacity"], 72);
    assert_eq!(
        l1d["entries"][0],
        json!({"page": "0x7ffd5c3e1000", "frame": "0x6", "size": "4K", "pcid": 1,
               "global": false, "writable": true, "user": true, "no_execute": false,
               "dirty": true})
    );
    assert_eq!(state["page_tables"]["total"], 4);
    assert_eq!(state["processes"], 1);
    assert_eq!(state["pids"], json!([1]));

    // Sessions do not see each other: a second machine starts empty.
    let other = new_machine(addr, json!({"preset": "zen4"}));
    let s2 = get(addr, &format!("/api/machine/{other}/state")).json();
    assert_eq!(s2["page_tables"]["total"], 0);
    assert!(s2["cr3"].is_null());

    // A pasted configuration builds a machine.
    let toml = MachineConfig::preset("teaching").unwrap();
    let text = vmsim_core::config::PRESETS
        .iter()
        .find(|(n, _)| *n == "teaching")
        .unwrap()
        .1;
    let tid = new_machine(addr, json!({ "toml": text }));
    let r = post(
        addr,
        &format!("/api/machine/{tid}/access"),
        &json!({"va": 4660, "kind": "fetch", "pid": 2}),
    )
    .json();
    assert_eq!(r["machine"], json!(toml.name));

    // The one-shot explain is `vmsim explain ADDR --json`'s document.
    let one = get(addr, "/api/explain?addr=0x7ffd5c3e1a28&preset=zen4").json();
    assert_eq!(one, want);
    assert!(get(addr, "/api/explain?addr=0x1234&preset=teaching&kind=write").status == 200);

    // The page and its assets, with a policy that allows nothing else.
    let page = get(addr, "/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/explorer.js"));
    assert!(page
        .head
        .contains("Content-Security-Policy: default-src 'none'"));
    assert!(!page
        .head
        .to_ascii_lowercase()
        .contains("access-control-allow"));
    assert_eq!(get(addr, "/explorer.js").status, 200);
    assert_eq!(get(addr, "/explorer.css").status, 200);

    // Dropped on request.
    assert_eq!(
        send(addr, "DELETE", &format!("/api/machine/{other}"), &[], b"").status,
        200
    );
    get(addr, &format!("/api/machine/{other}/state")).refused(404);
    server.shutdown();
    // tiny_http's accept thread closes the socket as it notices the shutdown.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server still listens after shutdown"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_requests_get_a_4xx_with_a_one_line_error() {
    let server = start(Limits {
        max_body: 1024,
        ..Limits::default()
    });
    let addr = server.addr();
    let id = new_machine(addr, json!({"preset": "teaching"}));
    let access = format!("/api/machine/{id}/access");

    let e = post(addr, "/api/machine", &json!({"preset": "nope"})).refused(400);
    assert!(
        e.contains("unknown preset `nope`") && e.contains("zen4"),
        "{e}"
    );
    post(addr, "/api/machine", &json!({})).refused(400);
    post(addr, "/api/machine", &json!({"preset": "zen4", "toml": ""})).refused(400);
    let e = post(addr, "/api/machine", &json!({"toml": "cpus = \"many\""})).refused(400);
    assert!(e.contains("configuration"), "{e}");
    let e = send(
        addr,
        "POST",
        "/api/machine",
        &[("Content-Type", "application/json")],
        b"{not json",
    )
    .refused(400);
    assert!(e.contains("not the JSON expected"), "{e}");
    let e = post(addr, &access, &json!({"va": "0xzz"})).refused(400);
    assert!(e.contains("not an address"), "{e}");
    let e = post(addr, &access, &json!({"va": "0x10", "kind": "jump"})).refused(400);
    assert!(e.contains("not an access kind"), "{e}");
    post(addr, &access, &json!({"va": "0x10", "pid": 0})).refused(400);
    post(addr, &access, &json!({"va": "0x10", "pid": 5000})).refused(400);
    post(addr, &access, &json!({"va": "0x10", "extra": 1})).refused(400);
    post(addr, "/api/machine/00112233/access", &json!({"va": "0x10"})).refused(404);
    get(addr, "/api/machine/00112233/state").refused(404);
    get(addr, "/nothing/here").refused(404);
    get(addr, "/api/machine").refused(405);
    send(addr, "PUT", "/api/presets", &[], b"").refused(405);
    get(addr, "/api/explain?preset=zen4").refused(400);
    get(addr, "/api/explain?addr=0x10&preset=%zz").refused(400);
    get(addr, "/api/explain?addr=0x10&bogus=1").refused(400);
    let e = send(addr, "POST", "/api/machine", &[], br#"{"preset":"zen4"}"#).refused(415);
    assert!(e.contains("application/json"));
    let big = format!(r#"{{"toml": "{}"}}"#, "#".repeat(2000));
    let e = send(
        addr,
        "POST",
        "/api/machine",
        &[("Content-Type", "application/json")],
        big.as_bytes(),
    )
    .refused(413);
    assert!(e.contains("1024 bytes"), "{e}");
    // A pasted machine too large to build is refused before it is built.
    let huge = vmsim_core::config::PRESETS
        .iter()
        .find(|(n, _)| *n == "zen4")
        .unwrap()
        .1
        .to_string();
    let server2 = start(Limits {
        max_cached_entries: 100,
        ..Limits::default()
    });
    let e = post(server2.addr(), "/api/machine", &json!({ "toml": huge })).refused(413);
    assert!(e.contains("at most 100"), "{e}");
    server2.shutdown();
    server.shutdown();
}

#[test]
fn other_hosts_and_cross_origin_writes_are_refused() {
    let server = start(Limits::default());
    let addr = server.addr();
    let port = addr.port();
    let body = br#"{"preset":"zen4"}"#;
    let json_type = ("Content-Type", "application/json");
    // DNS rebinding: a page on attacker.example whose name now resolves to 127.0.0.1.
    for host in [
        format!("attacker.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_string(),
    ] {
        let e = send(addr, "GET", "/api/presets", &[("Host", &host)], b"").refused(403);
        assert!(e.contains("not the address"), "{e}");
        send(
            addr,
            "POST",
            "/api/machine",
            &[("Host", &host), json_type],
            body,
        )
        .refused(403);
        send(addr, "GET", "/", &[("Host", &host)], b"").refused(403);
    }
    let localhost = format!("localhost:{port}");
    assert_eq!(
        send(addr, "GET", "/api/presets", &[("Host", &localhost)], b"").status,
        200
    );
    // Cross-origin writes.
    for origin in [
        "http://attacker.example",
        "null",
        &format!("https://{addr}"),
    ] {
        let e = send(
            addr,
            "POST",
            "/api/machine",
            &[("Origin", origin), json_type],
            body,
        )
        .refused(403);
        assert!(e.contains("cross-origin"), "{e}");
    }
    let own = format!("http://{addr}");
    let r = send(
        addr,
        "POST",
        "/api/machine",
        &[("Origin", &own), json_type],
        body,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.head.to_ascii_lowercase().contains("access-control-allow"));
    server.shutdown();
}

#[test]
fn the_machines_are_bounded_and_idle_ones_dropped() {
    let server = start(Limits {
        max_machines: 3,
        idle: Duration::from_millis(600),
        ..Limits::default()
    });
    let addr = server.addr();
    let ids: Vec<String> = (0..3)
        .map(|_| new_machine(addr, json!({"preset": "teaching"})))
        .collect();
    let e = post(addr, "/api/machine", &json!({"preset": "teaching"})).refused(503);
    assert!(e.contains("3 machines"), "{e}");
    std::thread::sleep(Duration::from_millis(800));
    get(addr, &format!("/api/machine/{}/state", ids[0])).refused(404);
    new_machine(addr, json!({"preset": "teaching"}));
    server.shutdown();
}
