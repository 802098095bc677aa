//! What the explorer shows inside a machine: `vmsim_sim::machine_state`'s document with the
//! processes the session's accesses named.
use super::sessions::Session;
use serde_json::{json, Value};

/// The state document of `s`'s machine.
pub fn state(s: &Session) -> Value {
    let mut v = vmsim_sim::machine_state::state(&s.explainer);
    v["pids"] = json!(s.pids);
    v
}
