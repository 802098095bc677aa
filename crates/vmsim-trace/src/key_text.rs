//! libCacheSim's `txt` traces: one object id per line, nothing else (vmsim's name for the
//! format is `keys`, as `txt` files are also vmsim's text traces). Each line is a read of the
//! object ([`crate::objects`]): a number is the key as it is, a string is hashed with
//! `--obj-id-is-num false`. Blank lines and lines starting with `#` are skipped.
use crate::objects::{key_of, KeyOptions, Object};

/// Parses one line, pushing its request.
pub fn parse_line(line: &str, keys: KeyOptions, out: &mut Vec<Object>) -> Result<(), String> {
    let id = line.trim();
    if id.is_empty() || id.starts_with('#') {
        return Ok(());
    }
    let key = key_of(id, keys)?;
    out.push(Object {
        key,
        size: 0,
        write: false,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_per_line() {
        let mut v = Vec::new();
        let k = KeyOptions::default();
        parse_line(" 17 ", k, &mut v).unwrap();
        parse_line("# c", k, &mut v).unwrap();
        parse_line("", k, &mut v).unwrap();
        assert_eq!(
            v,
            [Object {
                key: 17,
                size: 0,
                write: false
            }]
        );
        assert!(parse_line("user:1", k, &mut v).is_err());
        let s = KeyOptions {
            obj_id_is_num: false,
            ..k
        };
        parse_line("user:1", s, &mut v).unwrap();
        assert_eq!(v[1].key, crate::objects::hash_key(b"user:1"));
    }
}
