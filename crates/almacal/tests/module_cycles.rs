//! Issue 15: no import cycles between the modules of a crate. For every crate under
//! `crates/`, each `.rs` file under `src/` is a module (`a/b.rs` and `a/b/mod.rs` are
//! `a::b`); every path it names with `crate::`, `super::` or `self::` (in `use` lines and
//! in code) is an edge to the longest existing module prefix of that path. Edges between a
//! module and its own ancestors or descendants (a `mod.rs` re-exporting its children, a
//! child using its parent's items) are the normal shape of a Rust module tree and not
//! counted. Any strongly connected component of more than one module is a cycle.
//!
//! Run alone: `cargo test -p almacal --test module_cycles -- --nocapture` prints the graph's
//! size and every cycle found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Module path (`["stages", "applycal"]`) of a file under `src`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The paths a line names starting with `crate::`, `super::` or `self::`, expanded over
/// one level of `{a, b}` groups: each as its segments (identifiers only).
fn named_paths(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = line[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            // A whole word: not `xcrate::`.
            if at > 0 {
                let prev = line.as_bytes()[at - 1];
                if prev.is_ascii_alphanumeric() || prev == b'_' {
                    continue;
                }
            }
            let head = start.trim_end_matches("::").to_string();
            let rest = &line[from..];
            let mut segs = vec![head];
            let mut chars = rest.char_indices().peekable();
            let mut cur = String::new();
            let mut group: Option<String> = None;
            if rest.starts_with('{') {
                let end = rest.find('}').unwrap_or(rest.len());
                group = Some(rest[1..end].to_string());
                chars = "".char_indices().peekable();
            }
            while let Some((k, c)) = chars.next() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    cur.push(c);
                } else if c == ':' && rest[k..].starts_with("::") {
                    chars.next();
                    if !cur.is_empty() {
                        segs.push(std::mem::take(&mut cur));
                    }
                    if rest[k + 2..].starts_with('{') {
                        let end = rest[k + 2..].find('}').map_or(rest.len(), |e| k + 2 + e);
                        group = Some(rest[k + 3..end].to_string());
                        break;
                    }
                } else {
                    break;
                }
            }
            if !cur.is_empty() {
                segs.push(cur);
            }
            match group {
                Some(g) => {
                    for item in g.split(',') {
                        let mut s = segs.clone();
                        s.extend(
                            item.trim()
                                .split("::")
                                .map(|x| x.trim().trim_start_matches('{').to_string())
                                .filter(|x| !x.is_empty() && x != "self"),
                        );
                        out.push(s);
                    }
                }
                None => out.push(segs),
            }
        }
    }
    out
}

/// Resolve a named path from module `here` to the longest existing module prefix.
fn resolve(
    here: &[String],
    is_mod_rs: bool,
    path: &[String],
    mods: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut base: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => here.to_vec(),
        Some("super") => {
            // In `a/b.rs` (module a::b) super is a; in `a/b/mod.rs` too.
            let _ = is_mod_rs;
            let mut b = here.to_vec();
            b.pop()?;
            b
        }
        _ => return None,
    };
    let mut rest = &path[1..];
    while rest.first().map(String::as_str) == Some("super") {
        base.pop()?;
        rest = &rest[1..];
    }
    let mut best = base.clone();
    let mut cur = base;
    for seg in rest {
        cur.push(seg.clone());
        if mods.contains(&cur) {
            best = cur.clone();
        } else {
            break;
        }
    }
    Some(best)
}

fn related(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Strongly connected components of more than one node (Tarjan).
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct T<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on: BTreeSet<Vec<String>>,
        next: usize,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit(t: &mut T<'_>, v: &Vec<String>) {
        t.index.insert(v.clone(), t.next);
        t.low.insert(v.clone(), t.next);
        t.next += 1;
        t.stack.push(v.clone());
        t.on.insert(v.clone());
        let succ: Vec<Vec<String>> = t.edges.get(v).into_iter().flatten().cloned().collect();
        for w in succ {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let lw = t.low[&w];
                let lv = t.low[v];
                t.low.insert(v.clone(), lv.min(lw));
            } else if t.on.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low[v];
                t.low.insert(v.clone(), lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: Vec<Vec<String>> = edges.keys().cloned().collect();
    for v in nodes {
        if !t.index.contains_key(&v) {
            visit(&mut t, &v);
        }
    }
    t.out
}

/// Every crate's module cycles, as "crate: a -> b -> a"-style listings of the component.
fn all_cycles() -> (usize, Vec<String>) {
    let mut found = Vec::new();
    let mut nedges = 0;
    for e in std::fs::read_dir(repo().join("crates"))
        .expect("crates")
        .flatten()
    {
        let src = e.path().join("src");
        if !src.is_dir() {
            continue;
        }
        let krate = e.file_name().to_string_lossy().to_string();
        let mut files = Vec::new();
        rs_files(&src, &mut files);
        let mods: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for f in &files {
            let here = module_of(&src, f);
            let is_mod_rs = f.file_name().is_some_and(|n| n == "mod.rs");
            let text = std::fs::read_to_string(f).expect("read");
            // Code after `#[cfg(test)]` is test-only and not part of the module graph.
            let body = text.split("#[cfg(test)]").next().unwrap_or("");
            for line in body.lines() {
                let l = line.trim_start();
                if l.starts_with("//") {
                    continue;
                }
                for p in named_paths(l) {
                    let Some(to) = resolve(&here, is_mod_rs, &p, &mods) else {
                        continue;
                    };
                    if !related(&here, &to) {
                        nedges += usize::from(edges.entry(here.clone()).or_default().insert(to));
                    }
                }
            }
        }
        for comp in cycles(&edges) {
            let names: Vec<String> = comp.iter().map(|m| m.join("::")).collect();
            found.push(format!("{krate}: {}", names.join(" <-> ")));
        }
    }
    found.sort();
    (nedges, found)
}

#[test]
fn parser_expands_groups_and_supers() {
    let p = named_paths("use super::{prep_common::vis, solve_common::{a, b}};");
    assert!(
        p.contains(&vec!["super".into(), "prep_common".into(), "vis".into()]),
        "{p:?}"
    );
    let p = named_paths("let x = crate::stages::solve_common::fail(ctx);");
    assert_eq!(p, vec![vec!["crate", "stages", "solve_common", "fail"]]);
    let mods: BTreeSet<Vec<String>> = [
        vec!["stages".to_string()],
        vec!["stages".into(), "a".into()],
    ]
    .into_iter()
    .collect();
    let here = vec!["stages".to_string(), "b".into()];
    let to = resolve(
        &here,
        false,
        &["super".into(), "a".into(), "f".into()],
        &mods,
    );
    assert_eq!(to, Some(vec!["stages".to_string(), "a".into()]));
    // A two-module cycle is found.
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    edges
        .entry(vec!["a".into()])
        .or_default()
        .insert(vec!["b".into()]);
    edges
        .entry(vec!["b".into()])
        .or_default()
        .insert(vec!["a".into()]);
    assert_eq!(cycles(&edges).len(), 1);
}

#[test]
fn no_module_cycles() {
    let (nedges, found) = all_cycles();
    eprintln!("{nedges} module edges; cycles: {found:#?}");
    assert!(nedges > 100, "the scan found only {nedges} edges");
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}
