//! Output of an import: the TOML recipe (stages with comments citing the script, the
//! unsupported calls as commented blocks), the `.import.json` account, and the one-screen
//! summary.

use crate::eval::Value;
use crate::{Import, Stage};
use std::fmt::Write as _;

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A value as TOML (`None` values are left out before this is called).
pub fn toml_value(v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "nan".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.into(),
        Value::Float(f) => {
            let s = format!("{f:?}");
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::None => "\"\"".into(),
        Value::List(l) => format!(
            "[{}]",
            l.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Dict(d) => {
            let items: Vec<String> = d
                .iter()
                .map(|(k, v)| {
                    let k = match k {
                        Value::Str(s) => s.clone(),
                        other => toml_value(other),
                    };
                    format!("{} = {}", key(&k), toml_value(v))
                })
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        Value::TsysMap => "\"auto\"".into(),
        Value::Unknown(why) => quote(&format!("<unknown: {why}>")),
    }
}

fn inline(kw: &[(String, Value)]) -> String {
    let items: Vec<String> = kw
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), toml_value(v)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

fn comment_block(out: &mut String, text: &str) {
    for l in text.lines() {
        let _ = writeln!(out, "#   {l}");
    }
}

fn stage(out: &mut String, st: &Stage) {
    out.push('\n');
    for c in &st.comments {
        let _ = writeln!(out, "# {c}");
    }
    if st.commands.len() > 1 || st.groups.len() > 1 {
        let lines: Vec<String> = st.lines.iter().map(usize::to_string).collect();
        let _ = writeln!(
            out,
            "# {} calls merged, script lines {}",
            lines.len(),
            lines.join(", ")
        );
    }
    let _ = writeln!(out, "[stage.{}]", key(&st.name));
    let _ = writeln!(out, "task = {}", quote(&st.task));
    if !st.plots.is_empty() {
        let _ = writeln!(
            out,
            "plots = {}",
            toml_value(&Value::List(
                st.plots.iter().cloned().map(Value::Str).collect()
            ))
        );
    }
    for (k, v) in &st.params {
        let _ = writeln!(out, "{} = {}", key(k), toml_value(v));
    }
    if !st.commands.is_empty() {
        out.push_str("commands = [\n");
        for c in &st.commands {
            let _ = writeln!(out, "  {},", inline(c));
        }
        out.push_str("]\n");
    }
    match st.groups.as_slice() {
        [] => {}
        [one] => {
            for (k, v) in one {
                let _ = writeln!(out, "{} = {}", key(k), toml_value(v));
            }
        }
        many => {
            // Values every group shares are stage-level defaults; `field` stays per group.
            let shared: Vec<&(String, Value)> = many[0]
                .iter()
                .filter(|kv| kv.0 != "field" && many.iter().all(|g| g.contains(kv)))
                .collect();
            for (k, v) in &shared {
                let _ = writeln!(out, "{} = {}", key(k), toml_value(v));
            }
            out.push_str("groups = [\n");
            for g in many {
                let own: Vec<(String, Value)> = g
                    .iter()
                    .filter(|kv| !shared.contains(kv))
                    .cloned()
                    .collect();
                let _ = writeln!(out, "  {},", inline(&own));
            }
            out.push_str("]\n");
        }
    }
    if !st.output.is_empty() {
        let _ = writeln!(out, "output = {}", inline(&st.output));
    }
}

/// The recipe text.
pub fn recipe_toml(imp: &Import) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `almacal import-script` from {}.",
        imp.script
    );
    let _ = writeln!(
        out,
        "# {} of {} task calls translated; the others are commented blocks marked UNSUPPORTED.",
        imp.translated, imp.task_calls
    );
    out.push_str("[recipe]\n");
    let _ = writeln!(out, "name = {}", quote(&imp.name));
    out.push_str("workdir = \"work\"\n");
    if let Some(r) = &imp.refant {
        out.push_str(
            "\n# from the script's header: `# Using reference antenna = ...`\n[defaults]\n",
        );
        let _ = writeln!(out, "refant = {}", quote(r));
    }
    out.push_str("\n[inputs]\n");
    for (n, f) in &imp.inputs {
        let _ = writeln!(out, "{} = {}", key(n), quote(f));
    }
    // Stages and unsupported blocks in script order.
    let mut items: Vec<(usize, Result<&Stage, &crate::Unsupported>)> = imp
        .stages
        .iter()
        .map(|s| (s.lines.first().copied().unwrap_or(0), Ok(s)))
        .collect();
    items.extend(imp.unsupported.iter().map(|u| (u.line, Err(u))));
    items.sort_by_key(|(l, _)| *l);
    for (_, it) in items {
        match it {
            Ok(st) => stage(&mut out, st),
            Err(u) => {
                let step = u.step.map_or_else(String::new, |n| format!(", step {n}"));
                let _ = writeln!(
                    out,
                    "\n# UNSUPPORTED (script line {}{step}): {}: {}",
                    u.line, u.call, u.reason
                );
                comment_block(&mut out, &u.source);
            }
        }
    }
    out
}

/// The `.import.json` account.
pub fn account_json(imp: &Import) -> serde_json::Value {
    serde_json::json!({
        "script": imp.script,
        "task_calls": imp.task_calls,
        "translated": imp.translated,
        "stages": imp.stages.iter().map(|s| serde_json::json!({
            "name": s.name, "task": s.task, "lines": s.lines, "step": s.step,
        })).collect::<Vec<_>>(),
        "unsupported": imp.unsupported.iter().map(|u| serde_json::json!({
            "line": u.line, "call": u.call, "reason": u.reason,
        })).collect::<Vec<_>>(),
        "helpers": imp.helpers.iter().map(|h| serde_json::json!({
            "line": h.line, "call": h.call, "handled": h.handled, "note": h.note,
        })).collect::<Vec<_>>(),
        "dropped_rm": imp.dropped_rm,
        "repaired": imp.repaired.iter().map(|(l, m)| serde_json::json!({"line": l, "message": m})).collect::<Vec<_>>(),
    })
}

/// The one-screen summary printed by the command.
pub fn summary(imp: &Import) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} of {} task calls translated into {} stages",
        imp.script,
        imp.translated,
        imp.task_calls,
        imp.stages.len()
    );
    let mut by_task: Vec<(String, usize)> = Vec::new();
    for s in &imp.stages {
        match by_task.iter_mut().find(|(t, _)| *t == s.task) {
            Some(e) => e.1 += 1,
            None => by_task.push((s.task.clone(), 1)),
        }
    }
    let list: Vec<String> = by_task.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let _ = writeln!(out, "  stages: {}", list.join(", "));
    let _ = writeln!(out, "  unsupported: {}", imp.unsupported.len());
    for u in imp.unsupported.iter().take(12) {
        let _ = writeln!(out, "    line {:>5}  {:<18} {}", u.line, u.call, u.reason);
    }
    if imp.unsupported.len() > 12 {
        let _ = writeln!(
            out,
            "    ... {} more in the .import.json",
            imp.unsupported.len() - 12
        );
    }
    for (l, m) in &imp.repaired {
        let _ = writeln!(
            out,
            "  warning: line {l} commented out, the script itself does not parse there: {m}"
        );
    }
    let handled = imp.helpers.iter().filter(|h| h.handled).count();
    let _ = writeln!(
        out,
        "  helpers: {} ({} handled); rm -rf dropped: {}",
        imp.helpers.len(),
        handled,
        imp.dropped_rm
    );
    out
}
