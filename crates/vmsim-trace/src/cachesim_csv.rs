//! libCacheSim's `csv` traces: delimited lines whose columns are named by number, as
//! libCacheSim's `-t "time-col=1,obj-id-col=2,obj-size-col=3,op-col=4,has-header=true,
//! delimiter=,,obj-id-is-num=true"` names them; vmsim takes the same names as flags
//! (`--obj-id-col 2`, ...). Columns count from 1. Each line is a request for an object
//! ([`crate::objects`]): the id column gives the key (a number, or a hashed string with
//! `obj-id-is-num` false), the size column its size, the op column whether it writes (`set`,
//! `add`, `replace`, `cas`, `append`, `prepend`, `incr`, `decr`, `write`, `update`, `w`, any
//! case; anything else reads). The time column, when named, must hold a number; the trace's
//! order is its time. Blank lines and lines starting with `#` are skipped.
use crate::objects::{key_of, KeyOptions, Object};

/// The column options of libCacheSim's csv reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// The column of the request time (1-based), checked to be a number.
    pub time_col: Option<usize>,
    /// The column of the object id (1-based); required.
    pub obj_id_col: Option<usize>,
    /// The column of the object size in bytes (1-based).
    pub obj_size_col: Option<usize>,
    /// The column of the operation (1-based).
    pub op_col: Option<usize>,
    /// The first line names the columns.
    pub has_header: bool,
    /// The column separator.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            time_col: None,
            obj_id_col: None,
            obj_size_col: None,
            op_col: None,
            has_header: false,
            delimiter: b',',
        }
    }
}

/// Ops that write.
fn writes(op: &str) -> bool {
    const W: [&str; 11] = [
        "set", "add", "replace", "cas", "append", "prepend", "incr", "decr", "write", "update", "w",
    ];
    W.iter().any(|w| op.eq_ignore_ascii_case(w))
}

/// Parses line `lineno` (1-based), pushing its request (none for a header, blank or comment).
pub fn parse_line(
    line: &str,
    lineno: u64,
    csv: &CsvOptions,
    keys: KeyOptions,
    out: &mut Vec<Object>,
) -> Result<(), String> {
    if (lineno == 1 && csv.has_header) || line.trim().is_empty() || line.starts_with('#') {
        return Ok(());
    }
    csv.obj_id_col
        .ok_or("a csv trace needs --obj-id-col N (the column of the object id, from 1)")?;
    let delim = char::from(csv.delimiter);
    let mut cols: [Option<&str>; 4] = [None; 4];
    let want = [csv.obj_id_col, csv.obj_size_col, csv.op_col, csv.time_col];
    let mut seen = 0;
    for (i, field) in line.split(delim).enumerate() {
        for (slot, &w) in cols.iter_mut().zip(&want) {
            if w == Some(i + 1) {
                *slot = Some(field.trim().trim_matches('"'));
            }
        }
        seen = i + 1;
    }
    let get = |slot: usize, name: &str| -> Result<Option<&str>, String> {
        match (want[slot], cols[slot]) {
            (None, _) => Ok(None),
            (Some(_), Some(v)) => Ok(Some(v)),
            (Some(c), None) => Err(format!(
                "the line has {seen} columns, no column {c} for {name} (delimiter `{delim}`)"
            )),
        }
    };
    let id = get(0, "--obj-id-col")?.unwrap_or_default();
    let key = key_of(id, keys)?;
    let size = match get(1, "--obj-size-col")? {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| format!("object size `{s}` is not a number"))?,
        None => 0,
    };
    let write = get(2, "--op-col")?.is_some_and(writes);
    if let Some(t) = get(3, "--time-col")? {
        t.parse::<f64>()
            .map_err(|_| format!("time `{t}` is not a number"))?;
    }
    out.push(Object { key, size, write });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        line: &str,
        no: u64,
        csv: &CsvOptions,
        keys: KeyOptions,
    ) -> Result<Vec<Object>, String> {
        let mut v = Vec::new();
        parse_line(line, no, csv, keys, &mut v).map(|()| v)
    }

    #[test]
    fn columns_header_delimiter_and_ops() {
        let csv = CsvOptions {
            time_col: Some(1),
            obj_id_col: Some(3),
            obj_size_col: Some(4),
            op_col: Some(2),
            has_header: true,
            delimiter: b',',
        };
        let k = KeyOptions::default();
        assert!(parse("time,op,id,size", 1, &csv, k).unwrap().is_empty());
        assert_eq!(
            parse("12,SET,42,9000", 2, &csv, k).unwrap(),
            [Object {
                key: 42,
                size: 9000,
                write: true
            }]
        );
        assert!(!parse("12,get,42,1", 3, &csv, k).unwrap()[0].write);
        assert!(parse("12,get,x42,1", 3, &csv, k)
            .unwrap_err()
            .contains("--obj-id-is-num"));
        let s = KeyOptions {
            obj_id_is_num: false,
            ..k
        };
        assert_eq!(
            parse("12,get,x42,1", 3, &csv, s).unwrap()[0].key,
            crate::objects::hash_key(b"x42")
        );
        assert!(parse("12,get", 3, &csv, k)
            .unwrap_err()
            .contains("no column 3"));
        assert!(parse("t,get,1,1", 3, &csv, k)
            .unwrap_err()
            .contains("time `t`"));
        let tab = CsvOptions {
            delimiter: b'\t',
            has_header: false,
            ..csv
        };
        assert_eq!(parse("1\tget\t7\t1", 1, &tab, k).unwrap()[0].key, 7);
        let none = CsvOptions::default();
        assert!(parse("1,2", 1, &none, k)
            .unwrap_err()
            .contains("--obj-id-col"));
    }
}
