//! The Python-2 front end: rewrites the Python-2 constructs of archive scripts (the
//! `print` statement, `<>`, `except E, e:`, backticks-free octal literals) into Python 3 at
//! token level, keeping every line where it was so parser line numbers stay the script's.

/// One token of the light scanner: its byte range and kind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Name,
    Str,
    Num,
    Comment,
    Op,
    /// End of a logical line (a newline outside brackets).
    Newline,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
    depth: usize,
}

/// Splits `src` into tokens: strings (all quote forms and prefixes), comments, names,
/// numbers, operators and logical newlines; whitespace and backslash continuations are
/// skipped.
fn scan(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b'\n' {
            if depth == 0 {
                toks.push(Tok {
                    kind: Kind::Newline,
                    start,
                    end: i + 1,
                    depth,
                });
            }
            i += 1;
        } else if c == b'\\' && b.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Comment,
                start,
                end: i,
                depth,
            });
        } else if c == b'"' || c == b'\'' {
            i = string_end(b, i);
            toks.push(Tok {
                kind: Kind::Str,
                start,
                end: i,
                depth,
            });
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            // A string prefix (r, u, b, ur, ...) directly followed by a quote.
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') && i - start <= 2 {
                let prefix = src[start..i].to_ascii_lowercase();
                if prefix.chars().all(|ch| matches!(ch, 'r' | 'u' | 'b' | 'f')) {
                    i = string_end(b, i);
                    toks.push(Tok {
                        kind: Kind::Str,
                        start,
                        end: i,
                        depth,
                    });
                    continue;
                }
            }
            toks.push(Tok {
                kind: Kind::Name,
                start,
                end: i,
                depth,
            });
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || b[i] == b'.'
                    || ((b[i] == b'+' || b[i] == b'-') && matches!(b[i - 1], b'e' | b'E')))
            {
                i += 1;
            }
            toks.push(Tok {
                kind: Kind::Num,
                start,
                end: i,
                depth,
            });
        } else {
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            let two = b.get(i..i + 2);
            i += if two == Some(b"<>") || two == Some(b">>") {
                2
            } else {
                1
            };
            toks.push(Tok {
                kind: Kind::Op,
                start,
                end: i,
                depth,
            });
        }
    }
    toks
}

/// The end (exclusive) of the string literal whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let triple = b.get(i..i + 3) == Some(&[q, q, q][..]);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < b.len() {
        if b[j] == b'\\' {
            j += 2;
            continue;
        }
        if triple {
            if b.get(j..j + 3) == Some(&[q, q, q][..]) {
                return j + 3;
            }
        } else if b[j] == q || b[j] == b'\n' {
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// One edit: replace `start..end` with `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Rewrites the Python-2 constructs of `src` into Python 3; Python-3 text passes unchanged.
/// `print x, y` becomes `print(x, y)`, `print >>f, x` becomes `print(x, file=f)`, `a <> b`
/// becomes `a != b`, `except E, e:` becomes `except E as e:` and `0777` becomes `0o777`.
pub fn to_py3(src: &str) -> String {
    let toks = scan(src);
    let mut edits = Vec::new();
    let text = |t: &Tok| &src[t.start..t.end];
    for (k, t) in toks.iter().enumerate() {
        match t.kind {
            Kind::Name if text(t) == "print" && at_statement_start(&toks, k, src) => {
                print_edit(&toks, k, src, &mut edits);
            }
            Kind::Name if text(t) == "except" => except_edit(&toks, k, src, &mut edits),
            Kind::Op if text(t) == "<>" => edits.push(Edit {
                start: t.start,
                end: t.end,
                text: "!=".into(),
            }),
            Kind::Num => {
                let s = text(t);
                if s.len() > 1
                    && s.starts_with('0')
                    && s.bytes().all(|c| c.is_ascii_digit())
                    && s.bytes().any(|c| c != b'0')
                {
                    edits.push(Edit {
                        start: t.start,
                        end: t.end,
                        text: format!("0o{}", s.trim_start_matches('0')),
                    });
                } else if s.len() > 1
                    && (s.ends_with('L') || s.ends_with('l'))
                    && s[..s.len() - 1].bytes().all(|c| c.is_ascii_digit())
                {
                    edits.push(Edit {
                        start: t.start,
                        end: t.end,
                        text: s[..s.len() - 1].to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    apply(src, edits)
}

/// Whether token `k` starts a statement: first of a logical line, or after a `;` or the `:`
/// of a one-line compound statement (`if x: print 'y'`).
fn at_statement_start(toks: &[Tok], k: usize, src: &str) -> bool {
    if toks[k].depth != 0 {
        return false;
    }
    let prev = toks[..k].iter().rev().find(|t| t.kind != Kind::Comment);
    let starts = match prev {
        None => true,
        Some(p) if p.kind == Kind::Newline => true,
        Some(p) => p.kind == Kind::Op && p.depth == 0 && matches!(&src[p.start..p.end], ";" | ":"),
    };
    // `print(...)` alone is already a call in both dialects; `print = x` is an assignment.
    let next = toks.get(k + 1).map(|t| (t.kind, &src[t.start..t.end]));
    starts && !matches!(next, Some((Kind::Op, "(" | "=" | "." | ",")))
}

/// The edits turning the print statement at token `k` into a call.
fn print_edit(toks: &[Tok], k: usize, src: &str, edits: &mut Vec<Edit>) {
    let mut last = k;
    let mut j = k + 1;
    while let Some(t) = toks.get(j) {
        let s = &src[t.start..t.end];
        if t.depth == 0
            && (t.kind == Kind::Newline
                || t.kind == Kind::Comment
                || (t.kind == Kind::Op && s == ";"))
        {
            break;
        }
        last = j;
        j += 1;
    }
    let p = &toks[k];
    if last == k {
        edits.push(Edit {
            start: p.end,
            end: p.end,
            text: "()".into(),
        });
        return;
    }
    let first = &toks[k + 1];
    let end = toks[last].end;
    let mut body = src[first.start..end].to_string();
    // A trailing comma (no newline in Python 2) is harmless inside a call.
    if src[first.start..first.end] == *">>" {
        // print >>f, a, b  ->  print(a, b, file=f)
        let rest = body[2..].trim_start();
        let (target, args) = match split_top_comma(rest) {
            Some((t, a)) => (t.trim().to_string(), a.trim().to_string()),
            None => (rest.trim().to_string(), String::new()),
        };
        body = if args.is_empty() {
            format!("file={target}")
        } else {
            format!("{args}, file={target}")
        };
    }
    edits.push(Edit {
        start: p.end,
        end,
        text: format!("({body})"),
    });
}

/// Splits at the first comma outside brackets and strings.
fn split_top_comma(s: &str) -> Option<(&str, &str)> {
    let toks = scan(s);
    toks.iter()
        .find(|t| t.kind == Kind::Op && t.depth == 0 && &s[t.start..t.end] == ",")
        .map(|t| (&s[..t.start], &s[t.end..]))
}

/// `except E, e:` -> `except E as e:` (only when the comma is at the handler's top level).
fn except_edit(toks: &[Tok], k: usize, src: &str, edits: &mut Vec<Edit>) {
    let depth = toks[k].depth;
    let mut j = k + 1;
    while let Some(t) = toks.get(j) {
        let s = &src[t.start..t.end];
        if t.kind == Kind::Newline || (t.kind == Kind::Op && t.depth == depth && s == ":") {
            return;
        }
        if t.kind == Kind::Op && t.depth == depth && s == "," {
            edits.push(Edit {
                start: t.start,
                end: t.end,
                text: " as".into(),
            });
            return;
        }
        j += 1;
    }
}

fn apply(src: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(src.len() + edits.len() * 2);
    let mut pos = 0;
    for e in edits {
        if e.start < pos {
            continue;
        }
        out.push_str(&src[pos..e.start]);
        out.push_str(&e.text);
        pos = e.end;
    }
    out.push_str(&src[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::to_py3;

    #[test]
    fn print_statements_become_calls() {
        assert_eq!(
            to_py3("print 'Step ', mystep, step_title[mystep]\n"),
            "print('Step ', mystep, step_title[mystep])\n"
        );
        assert_eq!(to_py3("print\n"), "print()\n");
        assert_eq!(to_py3("if x: print 'a' # c\n"), "if x: print('a') # c\n");
        assert_eq!(
            to_py3("  print \"a\", \\\n  b\n"),
            "  print(\"a\", \\\n  b)\n"
        );
        assert_eq!(to_py3("print 'a'; x = 1\n"), "print('a'); x = 1\n");
        assert_eq!(to_py3("print >>f, 'a', b\n"), "print('a', b, file=f)\n");
    }

    #[test]
    fn python3_text_is_unchanged() {
        for s in [
            "print('a', b)\n",
            "x = 'print 1'\n",
            "d = {'print': 1}\n",
            "f(print)\n",
            "s = \"\"\"\nprint 'x'\n\"\"\"\n",
        ] {
            assert_eq!(to_py3(s), s);
        }
    }

    #[test]
    fn other_python2_forms() {
        assert_eq!(to_py3("if a <> b: pass\n"), "if a != b: pass\n");
        assert_eq!(
            to_py3("try:\n  x\nexcept Exception, e:\n  pass\n"),
            "try:\n  x\nexcept Exception as e:\n  pass\n"
        );
        assert_eq!(to_py3("os.chmod(p, 0777)\n"), "os.chmod(p, 0o777)\n");
        assert_eq!(to_py3("x = 0.5 + 0\n"), "x = 0.5 + 0\n");
    }

    #[test]
    fn multi_line_print_keeps_line_count() {
        let src = "print 'a', [1,\n  2]\nx = 1\n";
        let out = to_py3(src);
        assert_eq!(out, "print('a', [1,\n  2])\nx = 1\n");
        assert_eq!(out.lines().count(), src.lines().count());
    }
}
