//! Files of CASA flag commands (`inpfile`), one command per line in CASA's
//! syntax: `mode='manual' antenna='CM03' spw='20' reason='BAD'`. Blank lines
//! and `#` comments are skipped. Every command is validated like an inline
//! one, with errors located in the flag file.

use crate::convert::{command_from_entries, Cx};
use crate::diag::Diagnostic;
use crate::raw::{Node, RawValue};
use crate::recipe::FileFlagCommand;
use crate::source::SourceFile;
use crate::value::ParamValue;

/// Parse and validate every command in `src`.
pub fn parse_flag_file(src: &SourceFile, diags: &mut Vec<Diagnostic>) -> Vec<FileFlagCommand> {
    let mut out = Vec::new();
    let n_lines = src.text.lines().count();
    for line_no in 1..=n_lines {
        let span = src.line_span(line_no);
        let Some(line) = src.text.get(span.clone()) else {
            continue;
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match tokenize(line, span.start) {
            Ok(pairs) => {
                let entries: Vec<(String, std::ops::Range<usize>, Node)> = pairs;
                let mut cx = Cx { src, diags };
                if let Some(ParamValue::Table(params)) = command_from_entries(
                    &mut cx,
                    entries.iter().map(|(k, s, n)| (k.as_str(), s, n)),
                ) {
                    out.push(FileFlagCommand {
                        line: line_no,
                        params,
                    });
                }
            }
            Err((at, msg)) => diags.push(Diagnostic::at(src, at..at + 1, msg)),
        }
    }
    out
}

type Pair = (String, std::ops::Range<usize>, Node);

/// Split `key=value` pairs; values may be quoted with ' or ".
fn tokenize(line: &str, base: usize) -> Result<Vec<Pair>, (usize, String)> {
    let bytes: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    let mut pairs = Vec::new();
    while i < bytes.len() {
        if bytes[i].1.is_whitespace() {
            i += 1;
            continue;
        }
        if bytes[i].1 == '#' {
            break;
        }
        let key_start = i;
        while i < bytes.len() && (bytes[i].1.is_alphanumeric() || bytes[i].1 == '_') {
            i += 1;
        }
        let key_end = i;
        if key_start == key_end || i >= bytes.len() || bytes[i].1 != '=' {
            let at = bytes.get(i).map(|b| b.0).unwrap_or(line.len());
            return Err((
                base + at,
                "expected `key=value` in flag command (e.g. mode='manual' spw='20')".to_string(),
            ));
        }
        let key = line[bytes[key_start].0..bytes.get(key_end).map(|b| b.0).unwrap_or(line.len())]
            .to_string();
        let key_span =
            base + bytes[key_start].0..base + bytes.get(key_end).map(|b| b.0).unwrap_or(line.len());
        i += 1; // '='
        let val_start = bytes.get(i).map(|b| b.0).unwrap_or(line.len());
        let value = if bytes.get(i).is_some_and(|b| b.1 == '[') {
            // A list: [0,50] or ['a','b']
            let s = i + 1;
            while i < bytes.len() && bytes[i].1 != ']' {
                i += 1;
            }
            if i >= bytes.len() {
                return Err((
                    base + val_start,
                    "unterminated list value (missing `]`)".to_string(),
                ));
            }
            let inner = &line[bytes.get(s).map(|b| b.0).unwrap_or(line.len())..bytes[i].0];
            i += 1;
            let mut items = Vec::new();
            let mut offset = bytes.get(s).map(|b| b.0).unwrap_or(line.len());
            for part in inner.split(',') {
                let lead = part.len() - part.trim_start().len();
                let t = part.trim();
                let start = base + offset + lead;
                items.push(Node {
                    span: start..start + t.len(),
                    value: scalar(t),
                });
                offset += part.len() + 1;
            }
            RawValue::Array(items)
        } else if let Some(&(_, q)) = bytes.get(i).filter(|b| b.1 == '\'' || b.1 == '"') {
            i += 1;
            let s = i;
            while i < bytes.len() && bytes[i].1 != q {
                i += 1;
            }
            if i >= bytes.len() {
                return Err((base + val_start, "unterminated quoted value".to_string()));
            }
            let text =
                line[bytes.get(s).map(|b| b.0).unwrap_or(line.len())..bytes[i].0].to_string();
            i += 1;
            RawValue::Str(text)
        } else {
            let s = i;
            while i < bytes.len() && !bytes[i].1.is_whitespace() {
                i += 1;
            }
            let text = &line[bytes.get(s).map(|b| b.0).unwrap_or(line.len())
                ..bytes.get(i).map(|b| b.0).unwrap_or(line.len())];
            scalar(text)
        };
        let val_end = bytes.get(i).map(|b| b.0).unwrap_or(line.len());
        pairs.push((
            key,
            key_span,
            Node {
                span: base + val_start..base + val_end,
                value,
            },
        ));
    }
    Ok(pairs)
}

/// An unquoted or quoted scalar: booleans, numbers, else a string.
fn scalar(t: &str) -> RawValue {
    let unquoted = t
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .or_else(|| t.strip_prefix('"').and_then(|x| x.strip_suffix('"')));
    if let Some(s) = unquoted {
        return RawValue::Str(s.to_string());
    }
    match t {
        "True" | "true" => RawValue::Bool(true),
        "False" | "false" => RawValue::Bool(false),
        t => t
            .parse::<i64>()
            .map(RawValue::Int)
            .or_else(|_| t.parse::<f64>().map(RawValue::Float))
            .unwrap_or_else(|_| RawValue::Str(t.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_casa_flag_commands() {
        let src = SourceFile::new(
            "flags.txt",
            "# online flags\nmode='manual' antenna='CM03' spw='20'\n\nmode='shadow' tolerance=0.5\nmode=\"manual\" autocorr=True\nmode='clip' clipminmax=[0, 50.5]\n".to_string(),
        );
        let mut diags = Vec::new();
        let cmds = parse_flag_file(&src, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(cmds.len(), 4);
        assert_eq!(
            cmds[3].params["clipminmax"],
            ParamValue::List(vec![ParamValue::Float(0.0), ParamValue::Float(50.5)])
        );
        assert_eq!(cmds[0].line, 2);
        assert_eq!(cmds[0].params["antenna"], ParamValue::Str("CM03".into()));
        assert_eq!(cmds[1].params["tolerance"], ParamValue::Float(0.5));
        assert_eq!(cmds[2].params["autocorr"], ParamValue::Bool(true));
    }

    #[test]
    fn reports_errors_at_file_line_and_column() {
        let src = SourceFile::new(
            "flags.txt",
            "mode='manual' spw='20'\nmode='manual' antena='CM03'\nmode='manul'\n".to_string(),
        );
        let mut diags = Vec::new();
        parse_flag_file(&src, &mut diags);
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert_eq!((diags[0].pos.line, diags[0].pos.col), (2, 15));
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `antenna`?"));
        assert_eq!((diags[1].pos.line, diags[1].pos.col), (3, 6));
    }
}
