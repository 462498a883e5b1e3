//! CASA parameter strings: `mode='manual' antenna='CM03&&*' timerange='a~b' reason="X"`,
//! as found in FLAG_CMD rows and flag-command files. Splits them into key/value pairs.

/// One `key=value` of a command line, with the byte range of the whole pair.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    pub span: std::ops::Range<usize>,
}

/// Parse `key=value` pairs separated by whitespace; values may be quoted with ' or ".
/// Returns the byte offset and a message on malformed input.
pub fn parse_kv_line(line: &str) -> Result<Vec<KeyValue>, (usize, String)> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b[i] == b'#' {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = line[start..i].to_string();
        if key.is_empty() || i >= b.len() || b[i] != b'=' {
            return Err((
                start,
                format!("expected key=value, found '{}'", &line[start..i]),
            ));
        }
        i += 1;
        let value = if i < b.len() && (b[i] == b'\'' || b[i] == b'"') {
            let q = b[i];
            let vs = i + 1;
            let close = line[vs..]
                .bytes()
                .position(|c| c == q)
                .ok_or((i, format!("unterminated quote in the value of {key}")))?;
            i = vs + close + 1;
            line[vs..vs + close].to_string()
        } else {
            let vs = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            line[vs..i].to_string()
        };
        out.push(KeyValue {
            key,
            value,
            span: start..i,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_cmd_strings() {
        let kv = parse_kv_line(
            "antenna='CM03&&*' timerange='2016/04/15/06:22:32.157~2016/04/15/06:23:32.637' mode=manual reason=\"ONLINE FLAG\"",
        )
        .unwrap();
        let pairs: Vec<(&str, &str)> = kv
            .iter()
            .map(|k| (k.key.as_str(), k.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("antenna", "CM03&&*"),
                (
                    "timerange",
                    "2016/04/15/06:22:32.157~2016/04/15/06:23:32.637"
                ),
                ("mode", "manual"),
                ("reason", "ONLINE FLAG")
            ]
        );
        assert!(parse_kv_line("antenna='CM03").is_err());
        assert!(parse_kv_line("justaword").is_err());
        assert_eq!(parse_kv_line("  # comment").unwrap(), vec![]);
    }
}
