//! `vmsim ostep SIM ARGS...`: a stand-in for `SIM.py ARGS` of the OSTEP homework, printing
//! the script's own stdout byte for byte and ending as it ends (exit status 0, 1 or 2, the
//! Python exception named on stderr); `--explain` prints vmsim's layout with a derivation of
//! every answer, `--json` one object in the golden schema.
use anyhow::Result;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::Write;

/// Arguments of `vmsim ostep`.
#[derive(clap::Args)]
#[command(
    after_help = "Simulators: relocation, segmentation, paging-linear-translate, paging-linear-size,\n\
    paging-policy, paging-multilevel-translate, malloc. `vmsim ostep SIM -h` lists SIM's own flags.\n\
    Examples:\n  vmsim ostep relocation -s 1\n  vmsim ostep relocation -s 1 -c\n  \
    vmsim ostep segmentation -s 0 -a 128 -p 512 --explain\n  vmsim ostep paging-linear-translate -s 3 -v --json",
    // `-h`/`--help` after SIM is the script's own help, as `SIM.py -h` is; before SIM
    // (`vmsim ostep --help`) it is this text, printed by `run`.
    disable_help_flag = true
)]
pub struct Args {
    /// The simulator (`-h` or `--help` here prints this help).
    #[arg(allow_hyphen_values = true)]
    pub sim: String,
    /// Its arguments, as the original script takes them (-c for answers, -h for its flags);
    /// add --explain for vmsim's layout with derivations, --json for the golden-schema object.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

fn num(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn header(sim: &str, p: &Value) -> String {
    let mut s = String::new();
    match sim {
        "relocation" => {
            let _ = writeln!(
                s,
                "Base and bounds: address space {} bytes, physical memory {} bytes",
                num(&p["asize"]),
                num(&p["psize"])
            );
            let _ = writeln!(
                s,
                "  base register  {} ({:#x})",
                num(&p["base"]),
                p["base"].as_i64().unwrap_or(0)
            );
            let _ = writeln!(s, "  limit register {}", num(&p["limit"]));
        }
        "segmentation" => {
            let _ = writeln!(
                s,
                "Segmentation: address space {} bytes, physical memory {} bytes",
                num(&p["asize"]),
                num(&p["psize"])
            );
            let _ = writeln!(
                s,
                "  segment 0 (grows up):   base {}  limit {}",
                num(&p["seg0"]["base"]),
                num(&p["seg0"]["limit"])
            );
            let _ = writeln!(
                s,
                "  segment 1 (grows down): base {}  limit {}  (its highest byte is base - 1)",
                num(&p["seg1"]["base"]),
                num(&p["seg1"]["limit"])
            );
        }
        "paging-linear-translate" => {
            let _ = writeln!(s, "Linear page table: address space {} bytes, physical memory {} bytes, pages of {} bytes", num(&p["asize"]), num(&p["psize"]), num(&p["pagesize"]));
            if let Some(pt) = p["page_table"].as_array() {
                for (i, e) in pt.iter().enumerate() {
                    let _ = match e.as_i64() {
                        Some(f) if f >= 0 => writeln!(s, "  [{i:4}] valid, PFN {f}"),
                        _ => writeln!(s, "  [{i:4}] invalid"),
                    };
                }
            }
        }
        "paging-policy" => {
            let clock = if p["policy"] == "CLOCK" {
                format!(", {}-valued use counters", num(&p["clockbits"]))
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "Page replacement: policy {}, a cache of {} pages{clock}",
                p["policy"].as_str().unwrap_or(""),
                num(&p["cachesize"]),
            );
            let refs: Vec<String> = p["addrs"]
                .as_array()
                .map(|a| a.iter().map(num).collect())
                .unwrap_or_default();
            let _ = writeln!(s, "  reference string: {}", refs.join(","));
        }
        "paging-multilevel-translate" => {
            let _ = writeln!(
                s,
                "Two-level page table: 32-byte pages, 128 frames, 15-bit addresses (5 PDE bits, 5 PTE bits, 5 offset bits)"
            );
            let _ = writeln!(
                s,
                "  page directory base register (PDBR): frame {}",
                num(&p["pdbr"])
            );
            if let Some(mem) = p["memory"].as_array() {
                for (i, row) in mem.iter().enumerate() {
                    let _ = writeln!(s, "  page {i:3}: {}", row.as_str().unwrap_or(""));
                }
            }
        }
        "malloc" => {
            let _ = writeln!(
                s,
                "Heap of {} bytes at {}: {} fit, free list {}, coalescing {}, header {} bytes, alignment {}",
                num(&p["size"]),
                num(&p["base"]),
                p["policy"].as_str().unwrap_or(""),
                p["order"].as_str().unwrap_or(""),
                if p["coalesce"] == Value::Bool(true) { "on" } else { "off" },
                num(&p["header"]),
                if p["align"].as_i64() == Some(-1) { "none".to_string() } else { num(&p["align"]) }
            );
        }
        "paging-linear-size" => {
            let _ = writeln!(
                s,
                "Linear page table size: {}-bit virtual addresses, {}-byte pages, {}-byte entries",
                num(&p["va_bits"]),
                num(&p["page_size"]),
                num(&p["pte_size"])
            );
        }
        _ => {
            let _ = writeln!(s, "{p}");
        }
    }
    s
}

fn answer(sim: &str, a: &Value) -> String {
    match sim {
        "paging-linear-size" => format!(
            "{} offset bits, {} VPN bits, {} entries, {} bytes ({} KB, {} MB)",
            num(&a["offset_bits"]),
            num(&a["vpn_bits"]),
            num(&a["entries"]),
            num(&a["table_bytes"]),
            num(&a["table_kb"]),
            num(&a["table_mb"])
        ),
        "paging-multilevel-translate" => match a["result"].as_str() {
            Some("ok") => format!(
                "PA {:#06x} ({}), which holds {:#04x}",
                a["pa"].as_i64().unwrap_or(0),
                num(&a["pa"]),
                a["value"].as_i64().unwrap_or(0)
            ),
            Some("pde_fault") => "FAULT: the page directory entry is not valid".to_string(),
            _ => "FAULT: the page table entry is not valid".to_string(),
        },
        _ => {
            let seg = if a["seg"].is_null() {
                String::new()
            } else {
                format!(" (segment {})", num(&a["seg"]))
            };
            if a["valid"] == Value::Bool(true) {
                format!(
                    "VALID{seg}: PA 0x{} ({})",
                    vmsim_ostep::py::hex(a["pa"].as_i64().unwrap_or(0) as i128, 0),
                    num(&a["pa"])
                )
            } else if sim == "paging-linear-translate" {
                "INVALID: the page is not mapped".to_string()
            } else {
                format!("SEGMENTATION VIOLATION{seg}")
            }
        }
    }
}

/// Prints a relocation problem as its addresses are drawn, in the same text and JSON as a
/// collected case (the JSON lists the addresses, then draws them again for the answers).
fn relocation(
    p: &vmsim_ostep::relocation::Problem,
    show: bool,
    explain: bool,
    json: bool,
) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        write!(
            out,
            "{{\"problem\":{{\"asize\":{},\"base\":{},\"limit\":{},\"psize\":{},\"vaddrs\":[",
            p.asize, p.base, p.limit, p.psize
        )?;
        for (i, q) in p.questions().enumerate() {
            write!(out, "{}{}", if i == 0 { "" } else { "," }, q.va)?;
        }
        write!(out, "]}},\"answers\":[")?;
        for (i, q) in p.questions().enumerate() {
            write!(out, "{}", if i == 0 { "" } else { "," })?;
            serde_json::to_writer(&mut out, &q.answer)?;
        }
        writeln!(out, "],\"summary\":null,\"error\":null}}")?;
        out.flush()?;
        return Ok(());
    }
    let registers =
        serde_json::json!({"asize": p.asize, "psize": p.psize, "base": p.base, "limit": p.limit});
    out.write_all(header("relocation", &registers).as_bytes())?;
    if p.count == 0 {
        out.flush()?;
        return Ok(());
    }
    writeln!(out, "\nVirtual addresses:")?;
    for (i, q) in p.questions().enumerate() {
        let v = q.va;
        write!(out, "  VA {i:2}: {v:#010x} ({v:>6})")?;
        if show || explain {
            writeln!(out, "  --> {}", answer("relocation", &q.answer))?;
        } else {
            writeln!(out, "  --> ?")?;
        }
        if explain {
            writeln!(out, "         {}", q.explain)?;
        }
    }
    if !show && !explain {
        writeln!(out, "\nFor each address, is it valid, and if so what is its physical address? (-c shows the answers, --explain how they follow)")?;
    }
    out.flush()?;
    Ok(())
}

/// The terminal width optparse wraps `-h` for: `COLUMNS`, else 80.
fn columns() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|&c: &usize| c > 0)
        .unwrap_or(80)
}

/// Runs the script itself: its stdout, and its ending as the exit status, with the error type
/// on stderr as `ostep SIM.py: TYPE: message` (TYPE is `exit`, `usage` or the exception).
fn script(sim: &str, args: &[String]) -> Result<()> {
    use vmsim_ostep::script::End;
    let dir = std::env::current_dir()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let end = vmsim_ostep::script::run(sim, args, &dir, columns(), &mut out);
    out.flush()?;
    drop(out);
    let end = end.ok_or_else(|| {
        crate::exit::usage(format!(
            "unknown simulator `{sim}` (expected one of: {})",
            vmsim_ostep::SIMULATORS.join(", ")
        ))
    })?;
    match end {
        End::Ok => Ok(()),
        End::Exit => anyhow::bail!(
            "ostep {sim}.py: exit: the script exits with status 1 after the error it printed"
        ),
        End::Raise(e) => anyhow::bail!(
            "ostep {sim}.py: {}: {} (the script raises it here)",
            e.name,
            e.message
        ),
        End::Refused(why) => anyhow::bail!("ostep {sim}.py: refused: {why}"),
        End::Usage(m) => Err(crate::exit::usage(format!("ostep {sim}.py: usage: {m}"))),
    }
}

/// Runs `vmsim ostep`.
pub fn run(a: Args) -> Result<()> {
    if a.sim == "-h" || a.sim == "--help" {
        use clap::CommandFactory;
        let mut cli = crate::Cli::command();
        cli.build();
        if let Some(c) = cli.find_subcommand_mut("ostep") {
            c.print_help()?;
        }
        return Ok(());
    }
    if !a.args.iter().any(|x| x == "--explain" || x == "--json") {
        return script(&a.sim, &a.args);
    }
    let mut show = false;
    let mut explain = false;
    let mut json = false;
    let mut rest = Vec::new();
    for x in a.args {
        match x.as_str() {
            "-c" | "--compute" => show = true,
            "--explain" => explain = true,
            "--json" => json = true,
            _ => rest.push(x),
        }
    }
    if a.sim == "relocation" {
        // Streamed: `-n` in the billions prints in constant memory.
        if let Ok(p) = vmsim_ostep::relocation::generate(&rest) {
            return relocation(&p, show, explain, json);
        }
    }
    let dir = std::env::current_dir()?;
    let case = vmsim_ostep::run(&a.sim, &rest, &dir).ok_or_else(|| {
        crate::exit::usage(format!(
            "unknown simulator `{}` (expected one of: {})",
            a.sim,
            vmsim_ostep::SIMULATORS.join(", ")
        ))
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &case)?;
        writeln!(out)?;
    } else {
        if let Some(p) = &case.problem {
            out.write_all(header(&a.sim, p).as_bytes())?;
        }
        let vaddrs = case
            .problem
            .as_ref()
            .and_then(|p| p["vaddrs"].as_array())
            .cloned()
            .unwrap_or_default();
        if a.sim == "malloc" && case.error.is_none() {
            let ops = case
                .problem
                .as_ref()
                .and_then(|p| p["ops"].as_array())
                .cloned()
                .unwrap_or_default();
            writeln!(out, "\nOperations:")?;
            let mut next = 0;
            for (i, op) in ops.iter().enumerate() {
                let q = if op["op"] == "alloc" {
                    next += 1;
                    format!("ptr[{}] = Alloc({})", next - 1, num(&op["size"]))
                } else {
                    format!("Free(ptr[{}])", num(&op["index"]))
                };
                writeln!(out, "  {q}")?;
                if let Some(ans) = case.answers.as_ref().and_then(|v| v.get(i)) {
                    if explain {
                        if let Some(e) = case.explain.get(i) {
                            writeln!(out, "      {e}")?;
                        }
                    }
                    if show || explain {
                        let list: Vec<String> = ans["freelist"]
                            .as_array()
                            .map(|l| {
                                l.iter()
                                    .map(|e| format!("[addr:{} sz:{}]", num(&e[0]), num(&e[1])))
                                    .collect()
                            })
                            .unwrap_or_default();
                        if ans["skipped"] == Value::Bool(true) {
                            writeln!(out, "      skipped")?;
                        } else if ans["op"] == "alloc" {
                            writeln!(
                                out,
                                "      returned {} (searched {} elements)",
                                num(&ans["ret"]),
                                num(&ans["searched"])
                            )?;
                            writeln!(
                                out,
                                "      free list [size {}]: {}",
                                list.len(),
                                list.join(" ")
                            )?;
                        } else {
                            writeln!(out, "      returned {}", num(&ans["ret"]))?;
                            writeln!(
                                out,
                                "      free list [size {}]: {}",
                                list.len(),
                                list.join(" ")
                            )?;
                        }
                    }
                }
            }
            if !show && !explain {
                writeln!(out, "\nWhat does each operation return, and what is the free list after it? (-c shows the answers)")?;
            }
        } else if a.sim == "paging-policy" && case.error.is_none() {
            if show || explain {
                writeln!(out)?;
                for (i, line) in case.explain.iter().enumerate() {
                    let tally = case
                        .answers
                        .as_ref()
                        .and_then(|v| v.get(i))
                        .map(|x| {
                            format!("  (hits {}, misses {})", num(&x["hits"]), num(&x["misses"]))
                        })
                        .unwrap_or_default();
                    writeln!(out, "  {line}{tally}")?;
                }
                if let Some(sm) = &case.summary {
                    writeln!(
                        out,
                        "\nFINAL: hits {}, misses {}, hit rate {}%",
                        num(&sm["hits"]),
                        num(&sm["misses"]),
                        num(&sm["hitrate"])
                    )?;
                }
            } else {
                writeln!(
                    out,
                    "\nFor each reference, hit or miss, and which page is evicted? (-c shows the answers)"
                )?;
            }
        } else if !vaddrs.is_empty() {
            writeln!(out, "\nVirtual addresses:")?;
            for (i, va) in vaddrs.iter().enumerate() {
                let v = va.as_i64().unwrap_or(0);
                write!(out, "  VA {i:2}: {v:#010x} ({v:>6})")?;
                match case.answers.as_ref().and_then(|ans| ans.get(i)) {
                    Some(ans) if show || explain => writeln!(out, "  --> {}", answer(&a.sim, ans))?,
                    _ => writeln!(out, "  --> ?")?,
                }
                if explain {
                    if let Some(e) = case.explain.get(i) {
                        writeln!(out, "         {e}")?;
                    }
                }
            }
            if !show && !explain {
                writeln!(out, "\nFor each address, is it valid, and if so what is its physical address? (-c shows the answers, --explain how they follow)")?;
            }
        } else if let (Some(ans), true) = (
            case.answers.as_ref().and_then(|v| v.first()),
            case.error.is_none(),
        ) {
            if show || explain {
                writeln!(out, "\nAnswer: {}", answer(&a.sim, ans))?;
            } else {
                writeln!(out, "\nHow many bits of offset and of VPN, how many entries, how many bytes? (-c shows the answer)")?;
            }
            if explain {
                for e in &case.explain {
                    writeln!(out, "  {e}")?;
                }
            }
        }
    }
    out.flush()?;
    drop(out);
    if let Some(code) = &case.error {
        let why = case.explain.last().cloned().unwrap_or_default();
        anyhow::bail!(
            "ostep {}: error {code}{}",
            a.sim,
            if why.is_empty() {
                String::new()
            } else {
                format!(": {why}")
            }
        );
    }
    Ok(())
}
