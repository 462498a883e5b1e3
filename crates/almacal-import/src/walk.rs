//! Walks a parsed script's statements in order: binds variables, follows the
//! `mysteps`/`thesteps`/`step_title` structure, decides statically which branches run
//! (`if applyonly != True:` does), unrolls loops over known lists, and hands every call to
//! the translator or the helper table. Calls in code that does not run statically (a false
//! branch, an `except` handler, a function body) are accounted as unsupported.

use crate::calls::{self, Found};
use crate::eval::{Env, Value};
use crate::translate::{Book, CallCtx};
use crate::{Helper, Import, Unsupported};
use rustpython_parser::ast::{self, Expr, Ranged, Stmt};
use std::collections::BTreeSet;

pub struct Walker<'s> {
    src: &'s str,
    line_starts: Vec<usize>,
    env: Env,
    book: Book,
    step: Option<(i64, Option<String>)>,
    /// Task call sites (byte offsets) seen, translated at least once, unsupported.
    sites: BTreeSet<usize>,
    translated: BTreeSet<usize>,
    unsupported_sites: BTreeSet<usize>,
    helper_sites: BTreeSet<usize>,
    unsupported: Vec<Unsupported>,
    helpers: Vec<Helper>,
    dropped_rm: usize,
}

impl<'s> Walker<'s> {
    /// `src` is the original script text, `parsed` the text the parser read (the Python-2
    /// rewrite of `src`, with the same lines).
    pub fn new(src: &'s str, parsed: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(parsed.match_indices('\n').map(|(i, _)| i + 1));
        let refant = src.lines().find_map(|l| {
            let l = l.trim_start_matches('#').trim();
            l.strip_prefix("Using reference antenna =")
                .map(|r| r.trim().to_string())
        });
        let mut env = Env::default();
        env.set("applyonly", Value::Bool(false));
        Walker {
            src,
            line_starts,
            env,
            book: Book::new(refant),
            step: None,
            sites: BTreeSet::new(),
            translated: BTreeSet::new(),
            unsupported_sites: BTreeSet::new(),
            helper_sites: BTreeSet::new(),
            unsupported: Vec::new(),
            helpers: Vec::new(),
            dropped_rm: 0,
        }
    }

    pub fn run(mut self, stmts: &[Stmt]) -> Import {
        self.body(stmts, None);
        // A site translated in one loop iteration and refused in another counts once, as
        // unsupported (its refusal is the one a reader must see).
        let translated = self.translated.difference(&self.unsupported_sites).count();
        let (refant, inputs, stages) = self.book.finish();
        Import {
            refant,
            inputs,
            stages,
            unsupported: self.unsupported,
            helpers: self.helpers,
            task_calls: self.sites.len(),
            translated,
            dropped_rm: self.dropped_rm,
            ..Import::default()
        }
    }

    /// The 1-based line of byte offset `off` (of the parsed text; lines are the script's).
    fn line_of(&self, off: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= off)
    }

    /// The original lines covering the parsed range `start..end` (same line numbers).
    fn source_lines(&self, first: usize, last: usize) -> String {
        self.src
            .lines()
            .skip(first - 1)
            .take(last + 1 - first)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn body(&mut self, stmts: &[Stmt], skip: Option<&str>) {
        for s in stmts {
            self.stmt(s, skip);
        }
    }

    fn stmt(&mut self, s: &Stmt, skip: Option<&str>) {
        match s {
            Stmt::Expr(e) => self.exprs(&[&e.value], top_call(&e.value), None, skip),
            Stmt::Assign(a) => {
                let target = match a.targets.as_slice() {
                    [Expr::Name(n)] => Some(n.id.to_string()),
                    _ => None,
                };
                self.exprs(&[&a.value], top_call(&a.value), target.as_deref(), skip);
                if skip.is_none() {
                    if let Some(t) = &target {
                        let v = self.env.eval(&a.value);
                        self.env.set(t, v);
                    }
                }
            }
            Stmt::AugAssign(a) => self.exprs(&[&a.value], None, None, skip),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.exprs(&[v], None, None, skip);
                }
            }
            Stmt::If(i) => self.if_stmt(i, skip),
            Stmt::For(f) => {
                self.exprs(&[&f.iter], None, None, skip);
                let items = match (skip, self.env.eval(&f.iter)) {
                    (None, Value::List(v)) if !v.is_empty() && v.len() <= 64 => Some(v),
                    _ => None,
                };
                let name = match f.target.as_ref() {
                    Expr::Name(n) => Some(n.id.to_string()),
                    _ => None,
                };
                match (items, name) {
                    (Some(items), Some(name)) => {
                        for it in items {
                            self.env.set(&name, it);
                            self.body(&f.body, skip);
                        }
                    }
                    (_, name) => {
                        if let Some(n) = name {
                            self.env.set(
                                &n,
                                Value::Unknown("loop variable over an unknown sequence".into()),
                            );
                        }
                        self.body(&f.body, skip);
                    }
                }
                self.body(&f.orelse, skip);
            }
            Stmt::While(w) => {
                self.exprs(&[&w.test], None, None, skip);
                self.body(&w.body, skip);
                self.body(&w.orelse, skip);
            }
            Stmt::Try(t) => {
                self.body(&t.body, skip);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    self.body(
                        &h.body,
                        Some(
                            skip.unwrap_or(
                                "in an `except` handler (runs only when the `try` fails)",
                            ),
                        ),
                    );
                }
                self.body(&t.orelse, skip);
                self.body(&t.finalbody, skip);
            }
            Stmt::With(w) => {
                let items: Vec<&Expr> = w.items.iter().map(|i| &i.context_expr).collect();
                self.exprs(&items, None, None, skip);
                self.body(&w.body, skip);
            }
            Stmt::FunctionDef(f) => self.body(
                &f.body,
                Some(skip.unwrap_or("inside a function definition (`def`)")),
            ),
            Stmt::ClassDef(c) => {
                self.body(&c.body, Some(skip.unwrap_or("inside a class definition")))
            }
            Stmt::Assert(a) => self.exprs(&[&a.test], None, None, skip),
            _ => {}
        }
    }

    fn if_stmt(&mut self, i: &ast::StmtIf, skip: Option<&str>) {
        self.exprs(&[&i.test], None, None, skip);
        if skip.is_none() {
            if let Some(step) = self.step_test(&i.test) {
                let saved = self.step.replace(step);
                self.body(&i.body, None);
                self.step = saved;
                self.body(&i.orelse, Some("in the `else` of a step"));
                return;
            }
        }
        match (skip, self.env.eval(&i.test).truthy()) {
            (Some(_), _) => {
                self.body(&i.body, skip);
                self.body(&i.orelse, skip);
            }
            (None, Some(true)) => {
                self.body(&i.body, None);
                self.body(
                    &i.orelse,
                    Some("in a branch that does not run (its condition is statically true)"),
                );
            }
            (None, Some(false)) => {
                self.body(
                    &i.body,
                    Some("in a branch that does not run (its condition is statically false)"),
                );
                self.body(&i.orelse, None);
            }
            (None, None) => {
                self.body(&i.body, None);
                self.body(&i.orelse, None);
            }
        }
    }

    /// `if (mystep in thesteps):` -> the step number and its title.
    fn step_test(&self, test: &Expr) -> Option<(i64, Option<String>)> {
        let Expr::Compare(c) = test else { return None };
        let (Expr::Name(l), [ast::CmpOp::In], [Expr::Name(r)]) =
            (c.left.as_ref(), c.ops.as_slice(), c.comparators.as_slice())
        else {
            return None;
        };
        if l.id.as_str() != "mystep" || !matches!(r.id.as_str(), "thesteps" | "mysteps") {
            return None;
        }
        let Some(Value::Int(n)) = self.env.get("mystep") else {
            return None;
        };
        let title = match self.env.get("step_title") {
            Some(Value::Dict(d)) => d
                .iter()
                .find(|(k, _)| *k == Value::Int(*n))
                .and_then(|(_, v)| v.as_str().map(str::to_string)),
            _ => None,
        };
        Some((*n, title))
    }

    /// Handles every call in `exprs`; `top` is the statement's own call (the one a task
    /// call must be to become a stage), `target` the variable its result is bound to.
    fn exprs(
        &mut self,
        exprs: &[&Expr],
        top: Option<&ast::ExprCall>,
        target: Option<&str>,
        skip: Option<&str>,
    ) {
        let mut found = Vec::new();
        for e in exprs {
            calls::calls_in(e, &mut found);
        }
        for f in found {
            self.call(
                &f,
                top.is_some_and(|t| std::ptr::eq(t, f.call)),
                target,
                skip,
            );
        }
    }

    fn call(&mut self, f: &Found<'_>, is_top: bool, target: Option<&str>, skip: Option<&str>) {
        let start = f.call.range().start().to_usize();
        let (line, last) = (
            self.line_of(start),
            self.line_of(f.call.range().end().to_usize().saturating_sub(1)),
        );
        if calls::is_task_call(&f.name) {
            self.sites.insert(start);
            let result = match (skip, is_top) {
                (Some(why), _) => Err(why.to_string()),
                (None, false) => Err("nested inside another expression".to_string()),
                (None, true) => {
                    let ctx = CallCtx {
                        line,
                        step: self.step.clone(),
                        target: target.map(str::to_string),
                    };
                    let kwargs = self.arguments(&f.name, f.call);
                    self.book.task(&f.name, kwargs, &ctx)
                }
            };
            match result {
                Ok(()) => {
                    self.translated.insert(start);
                }
                Err(reason) => {
                    if self.unsupported_sites.insert(start) {
                        self.book.interrupt();
                        self.unsupported.push(Unsupported {
                            line,
                            call: f.name.clone(),
                            reason,
                            source: self.source_lines(line, last),
                            step: self.step.as_ref().map(|s| s.0),
                        });
                    }
                }
            }
            return;
        }
        let Some(helper) = self.helper(f, skip) else {
            return;
        };
        if self.helper_sites.insert(start) {
            self.helpers.push(Helper {
                line,
                call: f.name.clone(),
                handled: helper.0,
                note: helper.1,
            });
        }
    }

    /// A helper call: Some((handled, note)), or None for ordinary Python calls.
    fn helper(&mut self, f: &Found<'_>, skip: Option<&str>) -> Option<(bool, String)> {
        let name = f.name.as_str();
        if name == "os.system" {
            let cmd = f.call.args.first().map(|a| self.env.eval(a));
            return match cmd.as_ref().and_then(Value::as_str) {
                Some(c) if c.trim_start().starts_with("rm ") => {
                    self.dropped_rm += 1;
                    None
                }
                Some(c) => Some((false, format!("shell command `{c}` not run by almacal"))),
                None => Some((false, "shell command not known statically".into())),
            };
        }
        let plot = calls::PLOT_HELPERS.contains(&name);
        let utility = name.starts_with("es.")
            || name.starts_with("aU.")
            || matches!(name, "tsysspwmap" | "fixsyscaltimes");
        if !plot && !utility {
            return None;
        }
        if let Some(why) = skip {
            return Some((false, why.to_string()));
        }
        let kwargs = self.arguments(name, f.call);
        if name == "fixsyscaltimes" {
            return Some(
                match kwargs
                    .iter()
                    .find(|(k, _)| k == "vis")
                    .and_then(|(_, v)| v.as_str())
                {
                    Some(vis) => {
                        self.book.fixsyscaltimes(vis);
                        (true, "gencal tsys gets fixsyscaltimes = true".into())
                    }
                    None => (false, "vis not known statically".into()),
                },
            );
        }
        if plot {
            return Some(match self.book.plot(name, &kwargs) {
                Some(stage) => (true, format!("plots of stage `{stage}`")),
                None => (true, "plot of no stage (nothing to attach it to)".into()),
            });
        }
        Some((
            true,
            if name == "tsysspwmap" {
                "spwmap = \"auto\"".into()
            } else {
                "read-only: not needed by the recipe".into()
            },
        ))
    }

    /// The call's arguments as (name, value): keywords, and positionals under the first
    /// parameter names CASA tasks take (`vis`, then `caltable` for helpers).
    fn arguments(&self, name: &str, c: &ast::ExprCall) -> Vec<(String, Value)> {
        let positional = if name == "importasdm" {
            ["asdm", "vis", "corr_mode"]
        } else {
            ["vis", "caltable", "field"]
        };
        let mut out: Vec<(String, Value)> = c
            .args
            .iter()
            .zip(positional)
            .map(|(a, n)| (n.to_string(), self.env.eval(a)))
            .collect();
        for k in &c.keywords {
            if let Some(arg) = &k.arg {
                out.push((arg.to_string(), self.env.eval(&k.value)));
            }
        }
        out
    }
}

fn top_call(e: &Expr) -> Option<&ast::ExprCall> {
    match e {
        Expr::Call(c) => Some(c),
        _ => None,
    }
}
