//! The formats of other tools through every command that reads a trace: traces generated here
//! (ChampSim, CloudSuite, libCacheSim's oracleGeneral, csv and txt, perf script, each also
//! compressed) replayed by `run`, `policy` and `mrc` with the counts they must give.
mod common;
use common::{json, stderr, vmsim};
use std::io::Write;
use std::path::{Path, PathBuf};
use vmsim_trace::compress::Compressor;
use vmsim_trace::objects::Object;
use vmsim_trace::oracle_general::{self, Layout};
use vmsim_trace::Codec;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("vmsim-formats-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn put(name: &str, bytes: &[u8], codec: Option<Codec>) -> PathBuf {
    let mut c = Compressor::new(Vec::new(), codec).unwrap();
    c.write_all(bytes).unwrap();
    let p = dir().join(name);
    std::fs::write(&p, c.finish().unwrap()).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A skewed page stream: page `k` of 0..n with probability falling with k (a cheap Zipf).
fn skewed(n: u64, len: usize) -> Vec<u64> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            ((n as f64).powf(u) as u64 - 1).min(n - 1) + 1
        })
        .collect()
}

fn pgt(pages: &[(u64, bool)]) -> Vec<u8> {
    let mut b = b"VMSIMPG1".to_vec();
    for &(p, w) in pages {
        b.extend_from_slice(&((p << 1) | u64::from(w)).to_le_bytes());
    }
    b
}

/// libCacheSim's oracleGeneral with its next-access times, as its converters write them.
fn oracle(pages: &[u64], layout: Layout, writes: &[bool]) -> Vec<u8> {
    let mut next = vec![-1i64; pages.len()];
    let mut last = std::collections::HashMap::new();
    for (i, p) in pages.iter().enumerate().rev() {
        if let Some(&j) = last.get(p) {
            next[i] = j as i64;
        }
        last.insert(*p, i);
    }
    let mut b = Vec::new();
    for (i, &p) in pages.iter().enumerate() {
        let o = Object {
            key: p,
            size: 4096,
            write: writes[i],
        };
        oracle_general::write_record(&mut b, layout, i as u32, o, next[i]).unwrap();
    }
    b
}

fn results(args: &[&str]) -> serde_json::Value {
    json(&vmsim(args))["results"].clone()
}

#[test]
fn policy_on_oracle_general_equals_policy_on_the_same_pages() {
    let stream = skewed(5000, 60_000);
    let reads = vec![false; stream.len()];
    let refs: Vec<(u64, bool)> = stream.iter().map(|&p| (p, false)).collect();
    let a = put("zipf.pgt", &pgt(&refs), None);
    let b = put(
        "zipf.oracleGeneral.bin",
        &oracle(&stream, Layout::Plain, &reads),
        None,
    );
    let c = put(
        "zipf.oracleGeneral.zst",
        &oracle(&stream, Layout::Plain, &reads),
        Some(Codec::Zstd),
    );
    let grid = [
        "--policy",
        "lru,fifo,clock,arc,lfu,opt",
        "--frames",
        "10,100,1000",
        "--json",
    ];
    let want = results(&[&["policy", s(&a)][..], &grid].concat());
    assert_eq!(want.as_array().unwrap().len(), 18);
    for p in [&b, &c] {
        assert_eq!(
            results(&[&["policy", s(p)][..], &grid].concat()),
            want,
            "{}",
            p.display()
        );
    }
    // From a pipe, detected by content (and decompressed): the same again.
    let piped = std::process::Command::new(env!("CARGO_BIN_EXE_vmsim"))
        .args([&["policy", "-"][..], &grid].concat())
        .stdin(std::fs::File::open(&c).unwrap())
        .output()
        .unwrap();
    assert_eq!(json(&piped)["results"], want);
    // With writes, from oracleGeneralOpNS.
    let writes: Vec<bool> = (0..stream.len()).map(|i| i % 5 == 0).collect();
    let wrefs: Vec<(u64, bool)> = stream.iter().zip(&writes).map(|(&p, &w)| (p, w)).collect();
    let a = put("w.pgt", &pgt(&wrefs), None);
    let b = put(
        "w.oracleGeneralOpNS.bin",
        &oracle(&stream, Layout::OpNs, &writes),
        None,
    );
    let want = results(&[&["policy", s(&a)][..], &grid].concat());
    assert_eq!(results(&[&["policy", s(&b)][..], &grid].concat()), want);
}

/// `n` ChampSim records: a fetch in a 2-page loop, two reads and a write over 16 pages.
fn champsim(n: u64, cloudsuite: bool) -> Vec<u8> {
    let (size, dst, src, asid) = if cloudsuite {
        (96, 24, 56, Some(88))
    } else {
        (64, 16, 32, None)
    };
    let mut b = Vec::new();
    for i in 0..n {
        let mut r = vec![0u8; size];
        r[..8].copy_from_slice(&(0x40_0000 + (i * 4) % 8192).to_le_bytes());
        r[src..src + 8].copy_from_slice(&(0x7f00_0000_0000 + (i * 64) % 65536).to_le_bytes());
        r[src + 8..src + 16].copy_from_slice(&(0x7f00_0001_0000 + (i * 8) % 4096).to_le_bytes());
        r[dst..dst + 8].copy_from_slice(&(0x60_0000 + (i * 8) % 4096).to_le_bytes());
        if let Some(a) = asid {
            r[a] = (i % 3) as u8;
        }
        b.extend_from_slice(&r);
    }
    b
}

#[test]
fn champsim_replays_in_run_policy_and_mrc() {
    let raw = champsim(5000, false);
    let a = put("t.champsimtrace", &raw, None);
    let x = put("t.champsimtrace.xz", &raw, Some(Codec::Xz));
    let g = put("unnamed.bin.gz", &raw, Some(Codec::Gzip));
    let run = json(&vmsim(&["run", s(&a), "--json"]));
    assert_eq!(run["records"], 20_000);
    assert_eq!(run["by_kind"]["fetch"], 5000, "{}", run["by_kind"]);
    assert_eq!(run["by_kind"]["read"], 10_000);
    assert_eq!(run["by_kind"]["write"], 5000);
    for p in [&x, &g] {
        let mut other = json(&vmsim(&["run", s(p), "--json"]));
        other["trace"] = run["trace"].clone();
        assert_eq!(other, run, "{}", p.display());
    }
    // 2 code pages + 16 + 1 read pages + 1 written page.
    let mrc = json(&vmsim(&["mrc", s(&x), "--json", "--sizes", "20"]));
    assert_eq!(mrc["footprint"], 20);
    assert_eq!(mrc["references"], 20_000);
    let pol = results(&[
        "policy",
        s(&g),
        "--policy",
        "lru",
        "--frames",
        "20",
        "--json",
    ]);
    assert_eq!(pol[0]["misses"], 20);
    // CloudSuite: the ASIDs are processes.
    let cs = put("t.cloudsuite", &champsim(3000, true), None);
    let out = json(&vmsim(&[
        "run",
        s(&cs),
        "--format",
        "champsim-cloudsuite",
        "--json",
    ]));
    assert_eq!(out["records"], 12_000);
    assert_eq!(
        out["processes"]
            .as_array()
            .map_or(out["processes"].as_u64().unwrap() as usize, |a| a.len()),
        3
    );
}

#[test]
fn csv_and_keys_as_libcachesim_reads_them() {
    let stream = skewed(300, 5000);
    let refs: Vec<(u64, bool)> = stream
        .iter()
        .enumerate()
        .map(|(i, &p)| (p, i % 4 == 0))
        .collect();
    let mut csv = String::from("timestamp,op,key,size\n");
    for (i, &(p, w)) in refs.iter().enumerate() {
        csv += &format!(
            "{i},{},{p},{}\n",
            if w { "set" } else { "get" },
            100 + i % 9000
        );
    }
    let c = put("t.csv", csv.as_bytes(), None);
    let a = put("t.pgt", &pgt(&refs), None);
    let grid = ["--policy", "lru,clock", "--frames", "10,50", "--json"];
    let cols = [
        "--time-col",
        "1",
        "--op-col",
        "2",
        "--obj-id-col",
        "3",
        "--obj-size-col",
        "4",
        "--has-header",
    ];
    let want = results(&[&["policy", s(&a)][..], &grid].concat());
    assert_eq!(
        results(&[&["policy", s(&c)][..], &cols, &grid].concat()),
        want
    );
    // Object sizes as pages: each request touches ceil(size / 4096) pages from its id.
    let pages: usize = (0..stream.len())
        .map(|i| (100 + i % 9000).div_ceil(4096))
        .sum();
    let mrc = json(&vmsim(
        &[
            &["mrc", s(&c), "--json", "--sizes", "1", "--obj-size-pages"][..],
            &cols,
        ]
        .concat(),
    ));
    assert_eq!(mrc["references"], pages as u64);
    // Without --obj-id-col: a usage-like error naming the file and line.
    let o = vmsim(&["policy", s(&c), "--frames", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("t.csv:1: a csv trace needs --obj-id-col"),
        "{}",
        stderr(&o)
    );
    // keys: string ids hashed; each distinct id is one page.
    let keys: String = stream.iter().map(|p| format!("user:{p}\n")).collect();
    let k = put("t.keys", keys.as_bytes(), Some(Codec::Zstd));
    let distinct = stream
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    let mrc = json(&vmsim(&[
        "mrc",
        s(&k),
        "--format",
        "keys",
        "--obj-id-is-num",
        "false",
        "--json",
        "--sizes",
        "1",
    ]));
    assert_eq!(mrc["footprint"], distinct as u64);
    let o = vmsim(&["mrc", s(&k), "--format", "keys"]);
    assert!(
        stderr(&o).contains("--obj-id-is-num false"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn perf_script_samples_replay() {
    let mut text = String::from("# ========\n# captured on: Sun Dec  6 2026\n# ========\n#\n");
    for i in 0..600u64 {
        let (ev, src) = if i % 3 == 0 {
            ("cpu/mem-stores/P", "|OP STORE|LVL L1 hit")
        } else {
            ("cpu/mem-loads,ldlat=30/P", "|OP LOAD|LVL L1 hit")
        };
        let pid = 100 + i % 2;
        text += &format!(
            "  stream {pid}/{pid} [00{}] 1000.{:06}: 30 {ev}: {:x} 68100142 {src} 401234 main+0x14 (/tmp/stream)\n",
            i % 2,
            i,
            0x7f00_0000_0000 + (i % 10) * 4096
        );
    }
    let p = put("mem.perf.txt", text.as_bytes(), None);
    let run = json(&vmsim(&["run", s(&p), "--json"]));
    assert_eq!(run["records"], 600);
    assert_eq!(run["by_kind"]["write"], 200);
    assert_eq!(run["by_kind"]["read"], 400);
    let mrc = json(&vmsim(&["mrc", s(&p), "--json", "--sizes", "1"]));
    assert_eq!(mrc["footprint"], 10);
}

#[test]
fn a_cut_or_corrupt_compressed_trace_is_one_line_and_exit_1() {
    let raw = champsim(20_000, false);
    for c in Codec::ALL {
        let packed = put(&format!("full.champsimtrace.{}", c.name()), &raw, Some(c));
        let bytes = std::fs::read(&packed).unwrap();
        let cut = put(
            &format!("cut.champsimtrace.{}", c.name()),
            &bytes[..bytes.len() / 2],
            None,
        );
        for cmd in ["run", "policy", "mrc", "ws", "pagetable"] {
            let o = vmsim(&[cmd, s(&cut)]);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{cmd} {c}: {e}");
            assert_eq!(e.lines().count(), 1, "{cmd} {c}: {e}");
            assert!(
                e.contains(&format!(
                    "{}: {c} data stops decoding at compressed byte",
                    s(&cut)
                )),
                "{e}"
            );
        }
    }
    let mut bad = std::fs::read(put("b.gz", &raw, Some(Codec::Gzip))).unwrap();
    let mid = bad.len() / 2;
    bad[mid..mid + 64].fill(0xa5);
    let p = put("bad.champsimtrace.gz", &bad, None);
    // Corrupt deflate data either fails to decode or decodes to garbage that gzip's CRC (at the
    // end) or the records' own check refuses first: one line naming the file, exit 1.
    let o = vmsim(&["run", s(&p)]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains(s(&p)), "{}", stderr(&o));
}

#[test]
fn convert_writes_champsim_and_compressed_output_that_reads_back() {
    let text = "X 0x401000\nR 0x7f0000001000\nR 0x7f0000002000\nW 0x601000\nW 0x601008\nW 0x601010\nR 0x5000\n";
    let t = put("a.txt", text.as_bytes(), None);
    let d = dir();
    let champ = d.join("a.champsimtrace.xz");
    let o = vmsim(&["convert", s(&t), s(&champ)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Three records: the fetch with two reads and two writes, the third write, the last read.
    let raw = d.join("a.raw");
    assert!(vmsim(&["convert", s(&champ), s(&raw), "--to", "champsim"])
        .status
        .success());
    assert_eq!(std::fs::metadata(&raw).unwrap().len(), 3 * 64);
    let back = d.join("a.back.txt");
    assert!(vmsim(&["convert", s(&champ), s(&back), "--to", "text.gz"])
        .status
        .success());
    let z = std::fs::read(&back).unwrap();
    assert_eq!(&z[..2], &[0x1f, 0x8b]);
    let again = d.join("a.again.txt");
    assert!(vmsim(&["convert", s(&back), s(&again)]).status.success());
    // What ChampSim holds of the text (one-byte accesses by process 1) comes back whole.
    let again = std::fs::read_to_string(&again).unwrap();
    let direct = vmsim(&["convert", s(&t), "-", "--to", "text"]);
    assert_eq!(again, common::stdout(&direct));
    assert_eq!(again.lines().count(), 7, "{again}");
    let o = vmsim(&["convert", s(&t), "x.csv"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
