//! The routes: the explorer's page and its JSON API. Every answer is computed by `vmsim-sim`
//! (the machine, the events, the narration); this file only reads requests and shapes replies.
//!
//! - `GET /`, `/explorer.js`, `/explorer.css`: the page (assets compiled in).
//! - `GET /api/presets`: `[{"name", "description"}]`.
//! - `POST /api/machine` with `{"preset": NAME}` or `{"toml": TEXT}`: `{"id", "machine",
//!   "description", "kernel"}`.
//! - `POST /api/machine/{id}/access` with `{"va": "0x...", "kind": "read|write|fetch", "pid":
//!   N}`: `vmsim explain VA --json`'s document for that one access on the session's machine,
//!   plus `"narration"` (the text `vmsim explain` prints) and `"split"` (the address's indices).
//! - `GET /api/machine/{id}/state`: [`super::state::state`].
//! - `DELETE /api/machine/{id}`: drops the machine.
//! - `GET /api/explain?addr=0x...&preset=NAME[&kind=K&pid=N]`: one access on a fresh machine,
//!   the same JSON as `vmsim explain ADDR --json`.
//!
//! A refusal is a 4xx (or a 503 when the server is full) with `{"error": "one line"}`.
use super::guard::Guard;
use super::sessions::{Full, Sessions};
use serde::Deserialize;
use serde_json::{json, Value};
use vmsim_core::config::{MachineConfig, DEFAULT_PRESET, PRESETS};
use vmsim_core::AccessKind;
use vmsim_sim::{ExplainedAccess, Explainer};

const PAGE: &str = include_str!("../../assets/explorer.html");
const SCRIPT: &str = include_str!("../../assets/explorer.js");
const STYLE: &str = include_str!("../../assets/explorer.css");

/// The page may load its own script and style sheet and talk to its own server, nothing else.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The highest pid an access may name: a machine holds at most this many processes.
pub const MAX_PID: u32 = 1024;

/// What the routes read of a request besides its body.
#[derive(Debug, Clone)]
pub struct Head {
    /// `GET`, `POST`, ... in capitals.
    pub method: String,
    /// The path and query.
    pub target: String,
    /// The `Host` header.
    pub host: Option<String>,
    /// The `Origin` header.
    pub origin: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers besides the ones the HTTP library adds.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", content_type.to_string()),
                ("X-Content-Type-Options", "nosniff".into()),
                ("Cache-Control", "no-store".into()),
                ("Referrer-Policy", "no-referrer".into()),
            ],
            body,
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply::new(status, "application/json", v.to_string().into_bytes())
    }

    /// A refusal: `{"error": message}` on one line.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, &json!({ "error": message }))
    }

    fn asset(content_type: &str, text: &str) -> Reply {
        let mut r = Reply::new(200, content_type, text.as_bytes().to_vec());
        r.headers.push(("Content-Security-Policy", CSP.into()));
        r.headers.push(("X-Frame-Options", "DENY".into()));
        r
    }
}

type Answer = Result<Reply, Reply>;

fn bad(message: impl Into<String>) -> Reply {
    Reply::error(400, &message.into())
}

/// Answers one request whose body (already bounded) is `body`.
pub fn handle(head: &Head, body: &[u8], guard: &Guard, sessions: &Sessions) -> Reply {
    match route(head, body, guard, sessions) {
        Ok(r) | Err(r) => r,
    }
}

fn route(head: &Head, body: &[u8], guard: &Guard, sessions: &Sessions) -> Answer {
    match head.host.as_deref() {
        Some(h) if guard.host_ok(h) => {}
        Some(h) => {
            return Err(Reply::error(
                403,
                &format!("host `{h}` is not the address this server answers on"),
            ))
        }
        None => return Err(Reply::error(403, "a request must name its Host")),
    }
    let method = head.method.as_str();
    if method != "GET" && method != "HEAD" {
        if !guard.origin_ok(head.origin.as_deref()) {
            return Err(Reply::error(
                403,
                "cross-origin requests may not change anything",
            ));
        }
        let json_body = head.content_type.as_deref().is_some_and(|t| {
            t.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
        if method == "POST" && !json_body {
            return Err(Reply::error(
                415,
                "send the request body as application/json",
            ));
        }
    }
    let (path, query) = head
        .target
        .split_once('?')
        .unwrap_or((head.target.as_str(), ""));
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", [""]) | ("GET", ["index.html"]) => {
            Ok(Reply::asset("text/html; charset=utf-8", PAGE))
        }
        ("GET", ["explorer.js"]) => Ok(Reply::asset("text/javascript; charset=utf-8", SCRIPT)),
        ("GET", ["explorer.css"]) => Ok(Reply::asset("text/css; charset=utf-8", STYLE)),
        ("GET", ["api", "presets"]) => presets(),
        ("POST", ["api", "machine"]) => new_machine(body, sessions),
        ("POST", ["api", "machine", id, "access"]) => access(id, body, sessions),
        ("GET", ["api", "machine", id, "state"]) => sessions
            .with(id, |s| Reply::json(200, &super::state::state(s)))
            .ok_or_else(|| no_machine(id)),
        ("DELETE", ["api", "machine", id]) => {
            if sessions.remove(id) {
                Ok(Reply::json(200, &json!({ "dropped": id })))
            } else {
                Err(no_machine(id))
            }
        }
        ("GET", ["api", "explain"]) => explain(query),
        (_, ["" | "index.html" | "explorer.js" | "explorer.css"])
        | (_, ["api", "presets" | "machine" | "explain"])
        | (_, ["api", "machine", _, "access" | "state"])
        | (_, ["api", "machine", _]) => Err(Reply::error(
            405,
            &format!("{method} is not allowed on {path}"),
        )),
        _ => Err(Reply::error(404, &format!("no such page: {path}"))),
    }
}

fn no_machine(id: &str) -> Reply {
    let shown: String = id.chars().take(40).collect();
    Reply::error(
        404,
        &format!("no machine `{shown}` (never made, or dropped after 30 idle minutes)"),
    )
}

fn presets() -> Answer {
    let list: Vec<Value> = PRESETS
        .iter()
        .filter_map(|(name, _)| MachineConfig::preset(name).ok())
        .map(|c| json!({ "name": c.name, "description": c.description }))
        .collect();
    Ok(Reply::json(200, &json!(list)))
}

fn preset(name: &str) -> Result<MachineConfig, Reply> {
    MachineConfig::preset(name).map_err(|_| {
        let known: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        bad(format!(
            "unknown preset `{name}` (the presets: {})",
            known.join(", ")
        ))
    })
}

/// A machine the server will hold: valid, and no larger in cached entries than the limit.
fn build(cfg: MachineConfig, max_entries: u64) -> Result<Explainer, Reply> {
    cfg.validate()
        .map_err(|e| bad(format!("invalid machine: {e}")))?;
    let mmu = &cfg.mmu;
    let tlb: u64 = [&mmu.l1i, &mmu.l1d, &mmu.l2]
        .into_iter()
        .flatten()
        .flat_map(|t| &t.arrays)
        .map(|a| u64::from(a.sets) * u64::from(a.ways))
        .sum();
    let pwc = [mmu.pwc.pml5e, mmu.pwc.pml4e, mmu.pwc.pdpte, mmu.pwc.pde]
        .into_iter()
        .map(u64::from)
        .sum::<u64>();
    let entries = (tlb + pwc).saturating_mul(u64::from(cfg.cpus));
    if entries > max_entries {
        return Err(Reply::error(
            413,
            &format!(
                "this machine caches {entries} TLB and page-walk-cache entries over its CPUs; \
                 the server builds machines of at most {max_entries}"
            ),
        ));
    }
    Explainer::new(cfg).map_err(|e| bad(format!("invalid machine: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMachine {
    preset: Option<String>,
    toml: Option<String>,
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Reply> {
    serde_json::from_slice(body)
        .map_err(|e| bad(format!("the request body is not the JSON expected: {e}")))
}

fn new_machine(body: &[u8], sessions: &Sessions) -> Answer {
    let req: NewMachine = parse(body)?;
    let cfg = match (req.preset, req.toml) {
        (Some(name), None) => preset(&name)?,
        (None, Some(text)) => {
            MachineConfig::from_toml(&text).map_err(|e| bad(format!("the configuration: {e}")))?
        }
        _ => return Err(bad("give either \"preset\" or \"toml\"")),
    };
    let ex = build(cfg, sessions.limits().max_cached_entries)?;
    let info = json!({
        "machine": ex.config().name,
        "description": ex.config().description,
        "kernel": kernel_name(&ex),
    });
    let id = sessions.add(ex).map_err(|Full(n)| {
        Reply::error(
            503,
            &format!(
                "the server holds {n} machines, its most; try again when one has been idle \
                 for 30 minutes, or drop one"
            ),
        )
    })?;
    let mut v = info;
    v["id"] = json!(id);
    Ok(Reply::json(201, &v))
}

fn kernel_name(ex: &Explainer) -> &'static str {
    match ex.machine() {
        vmsim_sim::AnyMachine::Linux(_) => "linux",
        vmsim_sim::AnyMachine::DemandZero(_) => "demand-zero",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessRequest {
    va: Value,
    kind: Option<String>,
    pid: Option<u32>,
}

fn parse_va(v: &Value) -> Result<u64, Reply> {
    match v {
        Value::String(s) => parse_addr(s),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| bad(format!("`{n}` is not an address"))),
        _ => Err(bad(
            "\"va\" is an address: a 0x-prefixed hex string or a number",
        )),
    }
}

/// `0x`-prefixed hex or decimal, `_` allowed between digits.
fn parse_addr(s: &str) -> Result<u64, Reply> {
    let t = s.trim().replace('_', "");
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| {
        let shown: String = s.chars().take(40).collect();
        bad(format!(
            "`{shown}` is not an address (use 0x-prefixed hex or decimal)"
        ))
    })
}

fn parse_kind(k: Option<&str>) -> Result<AccessKind, Reply> {
    match k.unwrap_or("read") {
        "read" | "r" => Ok(AccessKind::Read),
        "write" | "w" => Ok(AccessKind::Write),
        "fetch" | "x" => Ok(AccessKind::Fetch),
        other => {
            let shown: String = other.chars().take(40).collect();
            Err(bad(format!(
                "`{shown}` is not an access kind (read, write or fetch)"
            )))
        }
    }
}

fn parse_pid(p: Option<u32>) -> Result<u32, Reply> {
    match p.unwrap_or(1) {
        n @ 1..=MAX_PID => Ok(n),
        n => Err(bad(format!("pid {n} is not between 1 and {MAX_PID}"))),
    }
}

/// One access on `ex`: the explain document with its narration and the address's split.
fn explained(ex: &mut Explainer, pid: u32, va: u64, kind: AccessKind) -> Answer {
    let a: ExplainedAccess = ex
        .access(pid, va, kind)
        .map_err(|e| Reply::error(422, &format!("the machine could not go on: {e}")))?;
    let narration = ex.narrate(&a);
    let split = vmsim_sim::narrate::split(ex.geometry(), vmsim_core::VirtAddr::new_unchecked(va));
    let mut v = serde_json::to_value(ex.explanation(vec![a]))
        .map_err(|e| Reply::error(500, &format!("cannot serialise the events: {e}")))?;
    v["narration"] = json!(narration);
    v["split"] = json!(split);
    Ok(Reply::json(200, &v))
}

fn access(id: &str, body: &[u8], sessions: &Sessions) -> Answer {
    let req: AccessRequest = parse(body)?;
    let va = parse_va(&req.va)?;
    let kind = parse_kind(req.kind.as_deref())?;
    let pid = parse_pid(req.pid)?;
    sessions
        .with(id, |s| {
            s.pids.insert(pid);
            explained(&mut s.explainer, pid, va, kind)
        })
        .ok_or_else(|| no_machine(id))?
}

fn explain(query: &str) -> Answer {
    let (mut addr, mut name, mut kind, mut pid) = (None, None, None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v)?;
        match k {
            "addr" => addr = Some(v),
            "preset" => name = Some(v),
            "kind" => kind = Some(v),
            "pid" => {
                pid = Some(
                    v.parse::<u32>()
                        .map_err(|_| bad(format!("pid `{v}` is not a number")))?,
                )
            }
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(bad(format!(
                    "unknown parameter `{shown}` (addr, preset, kind, pid)"
                )));
            }
        }
    }
    let va = parse_addr(&addr.ok_or_else(|| bad("give the address: ?addr=0x..."))?)?;
    let kind = parse_kind(kind.as_deref())?;
    let pid = parse_pid(pid)?;
    let cfg = preset(name.as_deref().unwrap_or(DEFAULT_PRESET))?;
    let mut ex = Explainer::new(cfg).map_err(|e| bad(format!("invalid machine: {e}")))?;
    let a = ex
        .access(pid, va, kind)
        .map_err(|e| Reply::error(422, &format!("the machine could not go on: {e}")))?;
    let v = serde_json::to_value(ex.explanation(vec![a]))
        .map_err(|e| Reply::error(500, &format!("cannot serialise the events: {e}")))?;
    Ok(Reply::json(200, &v))
}

/// `%XX` and `+` in a query value.
fn percent_decode(s: &str) -> Result<String, Reply> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("a query holds a bad %-escape"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad("a query is not UTF-8"))
}
