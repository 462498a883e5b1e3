//! CASA task calls -> recipe stages. Owns the book of file names: which script file (MS or
//! caltable) is which input or stage, stage naming from file-name suffixes
//! (`uid..ms.split.phase_int` -> `phase_int`), the merging of consecutive flagdata calls
//! into `commands` and of applycal calls into per-field `groups`, and the folding of a
//! split right after an applycal into its `output`.

use crate::eval::Value;
use crate::Stage;
use std::collections::{BTreeMap, BTreeSet};

/// Where a call sits in the script.
#[derive(Debug, Clone)]
pub struct CallCtx {
    pub line: usize,
    pub step: Option<(i64, Option<String>)>,
    /// The variable the call's result is bound to (`fluxscaleDict = fluxscale(...)`).
    pub target: Option<String>,
}

/// What a script file name stands for in the recipe.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Vis,
    Cal,
}

#[derive(Debug, Clone)]
struct Ref {
    name: String,
    kind: Kind,
}

/// CASA parameters naming outputs or asking for mutation: almacal names every product.
const DROPPED: &[&str] = &[
    "caltable",
    "fluxtable",
    "outputvis",
    "flagbackup",
    "listfile",
    "figfile",
    "plotfile",
    "append",
    "async",
    "savepars",
    "overwrite",
    "verbose",
    "usescratch",
    "display",
    "cmdreason",
];

pub struct Book {
    refant: Option<String>,
    files: BTreeMap<String, Ref>,
    inputs: Vec<(String, String)>,
    stages: Vec<Stage>,
    names: BTreeSet<String>,
    fixsys: BTreeSet<String>,
    /// Files written by calls that have no stage: file -> (script line, task).
    unmade: BTreeMap<String, (usize, String)>,
    /// The stage the next call may merge into (none after any other task call).
    open: Option<usize>,
}

type Kw = Vec<(String, Value)>;

fn get<'a>(kw: &'a Kw, key: &str) -> Option<&'a Value> {
    kw.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn get_str<'a>(kw: &'a Kw, key: &str) -> Option<&'a str> {
    get(kw, key).and_then(Value::as_str)
}

fn take(kw: &mut Kw, key: &str) -> Option<Value> {
    let i = kw.iter().position(|(k, _)| k == key)?;
    Some(kw.remove(i).1)
}

/// A valid TOML bare key from a file-name part.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out = out.trim_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "t_");
    }
    out
}

impl Book {
    pub fn new(refant: Option<String>) -> Self {
        Book {
            refant,
            files: BTreeMap::new(),
            inputs: Vec::new(),
            stages: Vec::new(),
            names: BTreeSet::new(),
            fixsys: BTreeSet::new(),
            unmade: BTreeMap::new(),
            open: None,
        }
    }

    pub fn finish(self) -> (Option<String>, Vec<(String, String)>, Vec<Stage>) {
        (self.refant, self.inputs, self.stages)
    }

    /// A refused task call sits between this one and the next: no merging across it.
    pub fn interrupt(&mut self) {
        self.open = None;
    }

    pub fn fixsyscaltimes(&mut self, vis: &str) {
        self.fixsys.insert(vis.to_string());
    }

    fn unique(&mut self, base: &str) -> String {
        let base = if base.is_empty() {
            "stage".to_string()
        } else {
            base.to_string()
        };
        let mut name = base.clone();
        let mut n = 2;
        while self.names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.names.insert(name.clone());
        name
    }

    /// The stage name for a product file: its suffix after the longest known vis file name
    /// (`X.ms.split.phase_int` after `X.ms.split` -> `phase_int`), else after `.ms.`.
    fn name_for(&mut self, file: &str, fallback: &str) -> String {
        let parent = self
            .files
            .iter()
            .filter(|(_, r)| r.kind == Kind::Vis)
            .map(|(f, _)| f.as_str())
            .chain(self.inputs.iter().map(|(_, f)| f.as_str()))
            .filter(|f| {
                file.len() > f.len() + 1 && file.starts_with(f) && file.as_bytes()[f.len()] == b'.'
            })
            .max_by_key(|f| f.len())
            .map(str::len);
        let base = file.rsplit('/').next().unwrap_or(file);
        let suffix = match parent {
            Some(n) => &file[n + 1..],
            None => base.rfind(".ms.").map_or(base, |i| &base[i + 4..]),
        };
        let s = sanitize(suffix);
        self.unique(if s.is_empty() { fallback } else { &s })
    }

    /// The recipe name of a vis file: a known stage or input, else a new input.
    fn vis(&mut self, file: &str) -> String {
        if let Some(r) = self.files.get(file) {
            return r.name.clone();
        }
        if let Some((n, _)) = self.inputs.iter().find(|(_, f)| f == file) {
            return n.clone();
        }
        // raw, raw_2, raw_3, ... in the order the script first reads them.
        let name = self.unique("raw");
        self.inputs.push((name.clone(), file.to_string()));
        name
    }

    /// A gaintable entry: the stage writing that caltable, else the path as given.
    /// A bare file name made elsewhere (`'G0'`) is written as a path (`"./G0"`) so it cannot
    /// be read as a stage name.
    fn table(&self, file: &str) -> Value {
        Value::Str(match self.files.get(file) {
            Some(r) => r.name.clone(),
            None if file.contains(['/', '.']) => file.to_string(),
            None => format!("./{file}"),
        })
    }

    fn tables(&self, v: &Value) -> Value {
        match v {
            Value::Str(s) if s.is_empty() => Value::List(vec![]),
            Value::Str(s) => Value::List(vec![self.table(s)]),
            Value::List(l) => Value::List(
                l.iter()
                    .map(|x| x.as_str().map_or(x.clone(), |s| self.table(s)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn comment(file_note: &str, ctx: &CallCtx, task: &str) -> String {
        let step = match &ctx.step {
            Some((n, Some(t))) => format!(" (step {n}: {t})"),
            Some((n, None)) => format!(" (step {n})"),
            None => String::new(),
        };
        format!("script line {}{step}: {task}{file_note}", ctx.line)
    }

    /// Record that the script's file `file` is the product of stage `name`.
    fn produce(&mut self, file: &str, name: &str, kind: Kind) {
        self.files.insert(
            file.to_string(),
            Ref {
                name: name.to_string(),
                kind,
            },
        );
    }

    fn push(&mut self, mut st: Stage, ctx: &CallCtx) -> usize {
        self.note_unmade(&mut st);
        st.lines.push(ctx.line);
        st.step = ctx.step.as_ref().map(|s| s.0);
        self.stages.push(st);
        self.stages.len() - 1
    }

    /// A comment on each table or MS the stage reads that no stage writes because the call
    /// writing it is unsupported: it has to exist before the recipe runs.
    fn note_unmade(&self, st: &mut Stage) {
        let mut files = Vec::new();
        let lists = st.params.iter().chain(st.groups.iter().flatten());
        for (k, v) in lists {
            match (k.as_str(), v) {
                ("gaintable" | "caltable", Value::List(l)) => {
                    files.extend(l.iter().filter_map(Value::as_str))
                }
                ("gaintable" | "caltable", Value::Str(f)) => files.push(f),
                _ => {}
            }
        }
        for (file, (line, task)) in &self.unmade {
            if files.contains(&file.as_str())
                && !st.comments.iter().any(|c| c.contains(file.as_str()))
            {
                st.comments.push(format!("NOTE: '{file}' is written by the unsupported {task} at script line {line}: it must exist before this recipe runs"));
            }
        }
    }

    /// Translates one task call; Err is the reason it has no stage (the files such a call
    /// would write are remembered, see [`Book::note_unmade`]).
    pub fn task(&mut self, task: &str, kw: Kw, ctx: &CallCtx) -> Result<(), String> {
        let outputs: Vec<String> = ["caltable", "outputvis", "concatvis", "fluxtable"]
            .iter()
            .filter(|k| !(task == "fluxscale" && **k == "caltable"))
            .filter_map(|k| get_str(&kw, k).map(str::to_string))
            .collect();
        let r = self.task_inner(task, kw, ctx);
        if r.is_err() {
            for f in outputs {
                self.unmade.entry(f).or_insert((ctx.line, task.to_string()));
            }
        }
        r
    }

    fn task_inner(&mut self, task: &str, mut kw: Kw, ctx: &CallCtx) -> Result<(), String> {
        match task {
            "flagdata" | "applycal" | "split" | "mstransform" | "gencal" | "gaincal" | "bandpass" | "fluxscale" | "setjy" | "delmod" | "flagcmd" | "flagmanager" | "listobs" => {}
            "importasdm" => {
                let asdm = get_str(&kw, "asdm").unwrap_or_default().to_string();
                let vis = get_str(&kw, "vis").map_or_else(|| format!("{asdm}.ms"), str::to_string);
                self.vis(&vis);
                return Err(format!("almacal reads an existing MS: `{vis}` (this call's output) is the recipe's input"));
            }
            "wvrgcal" => return Err("wvrgcal is not implemented in almacal: its caltable stays a path in later gaintables".into()),
            t if crate::calls::DATA_CHANGING_HELPERS.contains(&t) => return Err("changes the data and has no almacal equivalent".into()),
            t => return Err(format!("`{t}` has no almacal equivalent yet")),
        }
        if task == "setjy" {
            if let Some(r) = self.setjy_from_fluxscale(&kw, ctx) {
                return r;
            }
        }
        let unknown = kw
            .iter()
            .find(|(k, v)| !v.is_known() && !DROPPED.contains(&k.as_str()));
        if let Some((k, v)) = unknown {
            let why = match v {
                Value::Unknown(why) => format!(" ({why})"),
                _ => String::new(),
            };
            return Err(format!("`{k}` is not known statically{why}"));
        }
        if get_str(&kw, "vis").is_none() {
            return Err("no `vis` given (or not one MS)".into());
        }
        let merge_open = self.open.take();
        match task {
            "flagdata" => self.flagdata(kw, ctx, merge_open),
            "applycal" => self.applycal(kw, ctx, merge_open),
            "split" | "mstransform" => self.split(task, kw, ctx, merge_open),
            "gencal" => self.gencal(kw, ctx),
            "gaincal" | "bandpass" => self.solve(task, kw, ctx),
            "fluxscale" => self.fluxscale(kw, ctx),
            _ => self.simple(task, &mut kw, ctx),
        }
    }

    /// The scripts' loop over the fluxscale log (`setjy(field=..., spw=spwId, standard='manual',
    /// fluxdensity=[flux, 0, 0, 0])` with spw and flux read from the log) is almacal's
    /// `fluxscale = "<stage>"`: the fields' model from that fluxscale stage's result.
    fn setjy_from_fluxscale(&mut self, kw: &Kw, ctx: &CallCtx) -> Option<Result<(), String>> {
        let from_log = get_str(kw, "standard") == Some("manual")
            && ["spw", "fluxdensity"]
                .iter()
                .any(|k| get(kw, k).is_some_and(|v| !v.is_known()));
        if !from_log {
            return None;
        }
        let file = get_str(kw, "vis")?.to_string();
        let Some(field) = get_str(kw, "field").map(str::to_string) else {
            return Some(Err(
                "setjy from the fluxscale log: `field` is not known statically".into(),
            ));
        };
        let Some(flux) = self
            .stages
            .iter()
            .rev()
            .find(|s| s.task == "fluxscale" && s.vis_file == file)
            .map(|s| s.name.clone())
        else {
            return Some(Err(
                "setjy with values read at run time and no fluxscale stage on its vis".into(),
            ));
        };
        self.open = None;
        let vis = self.vis(&file);
        let name = self.unique("setjy");
        let params = vec![
            ("vis".to_string(), Value::Str(vis)),
            ("field".to_string(), Value::Str(field)),
            ("standard".to_string(), Value::Str("manual".into())),
            ("fluxscale".to_string(), Value::Str(flux.clone())),
        ];
        let note = format!(" from the fluxscale log loop -> fluxscale = \"{flux}\"");
        let st = Stage {
            name,
            task: "setjy".into(),
            params,
            vis_file: file,
            comments: vec![Self::comment(&note, ctx, "setjy")],
            ..Stage::default()
        };
        self.push(st, ctx);
        Some(Ok(()))
    }

    fn drop_reserved(kw: &mut Kw) {
        kw.retain(|(k, v)| {
            !DROPPED.contains(&k.as_str()) && *v != Value::None && *v != Value::Str(String::new())
        });
    }

    fn flagdata(&mut self, mut kw: Kw, ctx: &CallCtx, open: Option<usize>) -> Result<(), String> {
        let file = get_str(&kw, "vis").unwrap_or_default().to_string();
        match get_str(&kw, "action") {
            None | Some("apply") => {}
            Some(a) => return Err(format!("action = '{a}' writes no flags")),
        }
        take(&mut kw, "vis");
        take(&mut kw, "action");
        Self::drop_reserved(&mut kw);
        if get_str(&kw, "mode") == Some("list") {
            match take(&mut kw, "inpfile") {
                Some(Value::Str(f)) => {
                    take(&mut kw, "mode");
                    kw.insert(0, ("inpfile".into(), Value::Str(f)));
                }
                _ => {
                    return Err(
                        "mode = 'list' needs one flag file (inpfile) almacal can read".into(),
                    )
                }
            }
        }
        if let Some(i) = open {
            let st = &mut self.stages[i];
            if st.task == "flagdata"
                && st.vis_file == file
                && st.step == ctx.step.as_ref().map(|s| s.0)
                && !kw.iter().any(|(k, _)| k == "inpfile")
                && !st.params.iter().any(|(k, _)| k == "inpfile")
            {
                if st.commands.is_empty() {
                    let first: Kw = st.params.drain(1..).collect();
                    st.commands.push(first);
                }
                st.commands.push(kw);
                st.lines.push(ctx.line);
                self.open = Some(i);
                return Ok(());
            }
        }
        let on_cal = self.files.get(&file).is_some_and(|r| r.kind == Kind::Cal);
        let vis = self.vis(&file);
        let name = self.unique(&format!("{vis}_flags"));
        if on_cal {
            self.produce(&file, &name, Kind::Cal);
        }
        let mut params = vec![("vis".to_string(), Value::Str(vis))];
        params.extend(kw);
        let note = if on_cal {
            format!(" on caltable '{file}'")
        } else {
            String::new()
        };
        let st = Stage {
            name,
            task: "flagdata".into(),
            params,
            vis_file: file,
            comments: vec![Self::comment(&note, ctx, "flagdata")],
            ..Stage::default()
        };
        self.open = Some(self.push(st, ctx));
        Ok(())
    }

    fn applycal(&mut self, mut kw: Kw, ctx: &CallCtx, open: Option<usize>) -> Result<(), String> {
        let file = get_str(&kw, "vis").unwrap_or_default().to_string();
        take(&mut kw, "vis");
        Self::drop_reserved(&mut kw);
        let mut group = Kw::new();
        for key in [
            "field",
            "gaintable",
            "gainfield",
            "interp",
            "spwmap",
            "calwt",
        ] {
            if let Some(mut v) = take(&mut kw, key) {
                if key == "gaintable" {
                    v = self.tables(&v);
                }
                if key == "spwmap" {
                    v = spwmap(v);
                }
                group.push((key.to_string(), v));
            }
        }
        if let Some(i) = open {
            let st = &mut self.stages[i];
            let rest_same = st.params[1..] == kw[..];
            let fielded = get(&group, "field").is_some()
                && st.groups.iter().all(|g| get(g, "field").is_some());
            if st.task == "applycal"
                && st.vis_file == file
                && st.output.is_empty()
                && rest_same
                && fielded
            {
                st.groups.push(group);
                st.lines.push(ctx.line);
                self.open = Some(i);
                return Ok(());
            }
        }
        // Several applycal calls on one MS all read it, not each other's output.
        let vis = match self.files.get(&file) {
            Some(r)
                if self
                    .stages
                    .iter()
                    .any(|s| s.name == r.name && s.task == "applycal" && s.vis_file == file) =>
            {
                let st = self.stages.iter().rfind(|s| s.name == r.name);
                st.and_then(|s| s.params.first())
                    .and_then(|(_, v)| v.as_str())
                    .map_or_else(|| r.name.clone(), str::to_string)
            }
            _ => self.vis(&file),
        };
        let name = self.unique("apply");
        self.produce(&file, &name, Kind::Vis);
        let mut params = vec![("vis".to_string(), Value::Str(vis))];
        params.extend(kw);
        let st = Stage {
            name,
            task: "applycal".into(),
            params,
            groups: vec![group],
            vis_file: file.clone(),
            comments: vec![Self::comment(&format!(" on '{file}'"), ctx, "applycal")],
            ..Stage::default()
        };
        self.open = Some(self.push(st, ctx));
        Ok(())
    }

    fn split(
        &mut self,
        task: &str,
        mut kw: Kw,
        ctx: &CallCtx,
        open: Option<usize>,
    ) -> Result<(), String> {
        let file = get_str(&kw, "vis").unwrap_or_default().to_string();
        let Some(out) = get_str(&kw, "outputvis").map(str::to_string) else {
            return Err("no `outputvis`".into());
        };
        // Averaging parameters that average nothing are dropped; the others stay (the
        // split/mstransform stage averages as CASA does, and is then never folded into an
        // applycal's `output`).
        kw.retain(|(k, v)| {
            let no_op = match v {
                Value::Int(1) | Value::Bool(false) => true,
                Value::Str(s) => s.is_empty() || s == "0s" || s == "1",
                _ => false,
            };
            !(no_op
                && matches!(
                    k.as_str(),
                    "width" | "timebin" | "chanaverage" | "chanbin" | "timeaverage"
                ))
        });
        take(&mut kw, "vis");
        Self::drop_reserved(&mut kw);
        let note = format!(" '{file}' -> '{out}'");
        // A split of the applycal just made: the applycal's output.
        if let Some(i) = open {
            let foldable = kw.iter().all(|(k, _)| {
                matches!(
                    k.as_str(),
                    "spw" | "field" | "intent" | "datacolumn" | "keepflags"
                )
            });
            if task == "split"
                && foldable
                && self.stages[i].task == "applycal"
                && self.stages[i].vis_file == file
                && self.stages[i].output.is_empty()
            {
                let old = self.stages[i].name.clone();
                self.names.remove(&old);
                let new = self.name_for(&out, "split");
                for r in self.files.values_mut() {
                    if r.name == old {
                        r.name = new.clone();
                    }
                }
                self.produce(&out, &new, Kind::Vis);
                let st = &mut self.stages[i];
                st.name = new;
                st.output
                    .push(("split".into(), Value::Str(sanitize_path(&out))));
                st.output.extend(kw);
                st.lines.push(ctx.line);
                st.comments.push(Self::comment(&note, ctx, task));
                return Ok(());
            }
        }
        let vis = self.vis(&file);
        let name = self.name_for(&out, task);
        self.produce(&out, &name, Kind::Vis);
        let mut params = vec![("vis".to_string(), Value::Str(vis))];
        params.extend(kw);
        let st = Stage {
            name,
            task: task.into(),
            params,
            vis_file: file,
            comments: vec![Self::comment(&note, ctx, task)],
            ..Stage::default()
        };
        self.push(st, ctx);
        Ok(())
    }

    /// Registers the caltable a call writes and returns its stage name.
    fn caltable_stage(&mut self, kw: &Kw, task: &str) -> Result<(String, String), String> {
        let Some(cal) = get_str(kw, "caltable").map(str::to_string) else {
            return Err("no `caltable`".into());
        };
        let name = self.name_for(&cal, task);
        Ok((cal, name))
    }

    fn gencal(&mut self, mut kw: Kw, ctx: &CallCtx) -> Result<(), String> {
        let file = get_str(&kw, "vis").unwrap_or_default().to_string();
        let caltype = get_str(&kw, "caltype").unwrap_or_default().to_string();
        match caltype.as_str() {
            "tsys" => {
                kw.retain(|(k, _)| matches!(k.as_str(), "vis" | "caltable" | "caltype"));
                if self.fixsys.contains(&file) {
                    kw.push(("fixsyscaltimes".into(), Value::Bool(true)));
                }
            }
            "antpos" => {
                let has = |k| get(&kw, k).is_some_and(|v| v.truthy() == Some(true));
                if !has("antenna") || !has("parameter") {
                    return Err(
                        "antpos without `antenna` and `parameter` asks CASA's position service"
                            .into(),
                    );
                }
            }
            t => {
                return Err(format!(
                    "gencal caltype '{t}' is not implemented in almacal"
                ))
            }
        }
        let (cal, name) = self.caltable_stage(&kw, "gencal")?;
        self.finish_cal("gencal", cal, name, kw, ctx)
    }

    fn finish_cal(
        &mut self,
        task: &str,
        cal: String,
        name: String,
        mut kw: Kw,
        ctx: &CallCtx,
    ) -> Result<(), String> {
        let file = get_str(&kw, "vis").unwrap_or_default().to_string();
        let vis = self.vis(&file);
        take(&mut kw, "vis");
        Self::drop_reserved(&mut kw);
        if let Some(v) = take(&mut kw, "gaintable") {
            kw.push(("gaintable".into(), self.tables(&v)));
        }
        if let Some(v) = take(&mut kw, "spwmap") {
            kw.push(("spwmap".into(), spwmap(v)));
        }
        if let (Some(r), Some(d)) = (get_str(&kw, "refant"), self.refant.as_deref()) {
            if r == d {
                take(&mut kw, "refant");
            }
        }
        let mut params = vec![("vis".to_string(), Value::Str(vis))];
        params.extend(kw);
        self.produce(&cal, &name, Kind::Cal);
        let st = Stage {
            name,
            task: task.into(),
            params,
            vis_file: file,
            comments: vec![Self::comment(&format!(" -> '{cal}'"), ctx, task)],
            ..Stage::default()
        };
        self.push(st, ctx);
        Ok(())
    }

    fn solve(&mut self, task: &str, mut kw: Kw, ctx: &CallCtx) -> Result<(), String> {
        let append = get(&kw, "append") == Some(&Value::Bool(true));
        let cal = get_str(&kw, "caltable")
            .map(str::to_string)
            .ok_or("no `caltable`")?;
        let extends = self.files.get(&cal).map(|r| r.name.clone());
        let name = match (&extends, append) {
            (Some(old), true) => self.unique(old),
            _ => self.name_for(&cal, task),
        };
        if let (Some(old), true) = (extends, append) {
            kw.push(("append_to".into(), Value::Str(old)));
        }
        self.finish_cal(task, cal, name, kw, ctx)
    }

    fn fluxscale(&mut self, mut kw: Kw, ctx: &CallCtx) -> Result<(), String> {
        if get(&kw, "incremental") == Some(&Value::Bool(true)) {
            return Err("incremental = True is not implemented in almacal".into());
        }
        for key in ["reference", "transfer"] {
            if let Some(Value::List(l)) = get(&kw, key) {
                let names: Option<Vec<&str>> = l.iter().map(Value::as_str).collect();
                let Some(names) = names else {
                    return Err(format!("`{key}` is not a list of field names"));
                };
                let joined = Value::Str(names.join(","));
                take(&mut kw, key);
                kw.push((key.to_string(), joined));
            }
        }
        let Some(out) = get_str(&kw, "fluxtable").map(str::to_string) else {
            return Err("no `fluxtable`".into());
        };
        let Some(cal) = get_str(&kw, "caltable").map(str::to_string) else {
            return Err("no `caltable`".into());
        };
        let input = self.table(&cal);
        take(&mut kw, "caltable");
        kw.push(("caltable".into(), input));
        let name = self.name_for(&out, "fluxscale");
        // `caltable` here is the input, not an output: keep it through drop_reserved.
        let mut params: Kw = Vec::new();
        let file = get_str(&kw, "vis").unwrap_or_default().to_string();
        params.push(("vis".into(), Value::Str(self.vis(&file))));
        for (k, v) in kw {
            if k == "caltable"
                || (!DROPPED.contains(&k.as_str())
                    && k != "vis"
                    && v != Value::None
                    && v != Value::Str(String::new()))
            {
                params.push((k, v));
            }
        }
        self.produce(&out, &name, Kind::Cal);
        let st = Stage {
            name,
            task: "fluxscale".into(),
            params,
            vis_file: file,
            comments: vec![Self::comment(
                &format!(" '{cal}' -> '{out}'"),
                ctx,
                "fluxscale",
            )],
            ..Stage::default()
        };
        self.push(st, ctx);
        Ok(())
    }

    fn simple(&mut self, task: &str, kw: &mut Kw, ctx: &CallCtx) -> Result<(), String> {
        let file = get_str(kw, "vis").unwrap_or_default().to_string();
        let base = match task {
            "setjy" => {
                let std = get_str(kw, "standard").unwrap_or("Perley-Butler 2017");
                if !matches!(std, "manual" | "Perley-Butler 2017") {
                    return Err(format!(
                        "setjy standard '{std}' is not implemented in almacal"
                    ));
                }
                "setjy".to_string()
            }
            "flagmanager" => {
                let mode = get_str(kw, "mode").unwrap_or("list");
                if !matches!(mode, "save" | "list" | "restore") {
                    return Err(format!(
                        "flagmanager mode '{mode}' is not implemented in almacal"
                    ));
                }
                let version = get_str(kw, "versionname").map(sanitize).unwrap_or_default();
                if version.is_empty() {
                    format!("flags_{mode}")
                } else {
                    format!("{mode}_{version}")
                }
            }
            "flagcmd" => {
                if let Some(a) = get_str(kw, "action") {
                    if !matches!(a, "apply" | "list" | "plot") {
                        return Err(format!(
                            "flagcmd action '{a}' is not implemented in almacal"
                        ));
                    }
                }
                "flagcmd".to_string()
            }
            "listobs" => {
                kw.retain(|(k, _)| k == "vis");
                "listobs".to_string()
            }
            t => t.to_string(),
        };
        let vis = self.vis(&file);
        take(kw, "vis");
        Self::drop_reserved(kw);
        let name = self.unique(&base);
        let mut params = vec![("vis".to_string(), Value::Str(vis))];
        params.append(kw);
        let st = Stage {
            name,
            task: task.into(),
            params,
            vis_file: file.clone(),
            comments: vec![Self::comment(&format!(" on '{file}'"), ctx, task)],
            ..Stage::default()
        };
        self.push(st, ctx);
        Ok(())
    }

    /// Attaches a plot helper to the stage it draws; returns that stage's name.
    pub fn plot(&mut self, helper: &str, kw: &Kw) -> Option<String> {
        let file = get_str(kw, "caltable").or_else(|| get_str(kw, "vis"))?;
        let r = self.files.get(file)?.clone();
        let mut i = self.stages.iter().rposition(|s| s.name == r.name)?;
        // A flagged caltable's plots belong to the stage that solved it.
        while self.stages[i].task == "flagdata" {
            let src = self.stages[i]
                .params
                .first()
                .and_then(|(_, v)| v.as_str())?
                .to_string();
            i = self.stages.iter().rposition(|s| s.name == src)?;
        }
        let st = &mut self.stages[i];
        let caltype = st
            .params
            .iter()
            .find(|(k, _)| k == "caltype")
            .and_then(|(_, v)| v.as_str().map(str::to_string));
        let calmode = st
            .params
            .iter()
            .find(|(k, _)| k == "calmode")
            .and_then(|(_, v)| v.as_str().map(str::to_string));
        let plot = match (st.task.as_str(), caltype.as_deref(), helper) {
            (_, _, "plotants") => "ants",
            ("gencal", Some("tsys"), _) => "tsys",
            ("gencal", Some("antpos"), _) => "ants",
            ("bandpass", _, _) => "bandpass",
            ("gaincal", _, _) if calmode.as_deref() == Some("p") => "phase_time",
            ("gaincal" | "fluxscale", _, _) => "amp_time",
            ("applycal" | "split" | "mstransform", _, _) => plotms_plot(kw),
            _ => return None,
        };
        if !st.plots.iter().any(|p| p == plot) {
            st.plots.push(plot.to_string());
        }
        Some(st.name.clone())
    }
}

/// The plot name of a plotms call by its axes.
fn plotms_plot(kw: &Kw) -> &'static str {
    let x = get_str(kw, "xaxis").unwrap_or("time");
    let y = get_str(kw, "yaxis").unwrap_or("amp");
    match (x, y.starts_with("phase")) {
        ("uvdist" | "uvwave", _) => "amp_uvdist",
        ("freq" | "frequency" | "channel" | "chan", false) => "amp_freq",
        ("freq" | "frequency" | "channel" | "chan", true) => "phase_freq",
        (_, true) => "phase_time",
        _ => "amp_time",
    }
}

/// `spwmap` with `tsysspwmap(...)` results as almacal's `"auto"`.
fn spwmap(v: Value) -> Value {
    match v {
        Value::TsysMap => Value::List(vec![Value::Str("auto".into())]),
        Value::List(l) => Value::List(
            l.into_iter()
                .map(|x| {
                    if x == Value::TsysMap {
                        Value::Str("auto".into())
                    } else {
                        x
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

/// A script's output file name as a workdir-relative path (no directories).
fn sanitize_path(p: &str) -> String {
    p.rsplit('/').next().unwrap_or(p).to_string()
}
