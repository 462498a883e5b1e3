//! `almacal import-script`: turns an archive `scriptForCalibration.py` into an almacal
//! recipe. The Python-2 front end ([`py2`]) makes the script parseable by a real Python
//! parser; [`walk`] follows its statements in order, evaluating what it can statically
//! ([`eval`]); [`translate`] turns each CASA task call into a recipe stage (or an
//! unsupported entry with the reason); [`emit`] writes the TOML recipe and the JSON account.
//! Every task call ends up in a stage or in `unsupported`: nothing is dropped silently.

pub mod calls;
pub mod emit;
pub mod eval;
pub mod py2;
pub mod translate;
pub mod walk;

use eval::Value;
use std::path::Path;

/// Why a script could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: Python syntax error (after the Python-2 rewrite): {message}")]
    Syntax {
        path: String,
        line: usize,
        message: String,
    },
}

/// One recipe stage made from one or more script calls.
#[derive(Debug, Clone, Default)]
pub struct Stage {
    pub name: String,
    pub task: String,
    /// Stage-level parameters, in order.
    pub params: Vec<(String, Value)>,
    /// flagdata: the merged calls' commands (when more than one call).
    pub commands: Vec<Vec<(String, Value)>>,
    /// applycal: the merged calls' per-field groups.
    pub groups: Vec<Vec<(String, Value)>>,
    /// applycal: a split folded into the stage (`output = {split = ...}`).
    pub output: Vec<(String, Value)>,
    pub plots: Vec<String>,
    /// Comment lines citing the script (line, step title, file names).
    pub comments: Vec<String>,
    /// Script lines of the calls this stage is made of.
    pub lines: Vec<usize>,
    /// The script file name the stage reads (merging key) and the step it came from.
    pub vis_file: String,
    pub step: Option<i64>,
}

/// A task call that has no stage, with the reason.
#[derive(Debug, Clone)]
pub struct Unsupported {
    pub line: usize,
    pub call: String,
    pub reason: String,
    /// The call's source lines (for the commented block in the recipe).
    pub source: String,
    pub step: Option<i64>,
}

/// A helper call (analysisUtils, almahelpers, plotting) and whether the import handled it.
#[derive(Debug, Clone)]
pub struct Helper {
    pub line: usize,
    pub call: String,
    pub handled: bool,
    pub note: String,
}

/// The result of importing one script.
#[derive(Debug, Clone, Default)]
pub struct Import {
    pub script: String,
    /// The recipe's name (the script's file stem).
    pub name: String,
    pub refant: Option<String>,
    /// `[inputs]`: name and script file name.
    pub inputs: Vec<(String, String)>,
    pub stages: Vec<Stage>,
    pub unsupported: Vec<Unsupported>,
    pub helpers: Vec<Helper>,
    /// Task call sites in the script (CASA tasks and data-changing helpers).
    pub task_calls: usize,
    /// Task call sites that became (part of) a stage.
    pub translated: usize,
    /// Lines commented out so the script parses (syntax errors of the script itself, which
    /// CASA would stop at): line and parser message.
    pub repaired: Vec<(usize, String)>,
    /// `os.system('rm -rf ...')` calls dropped (almacal owns its outputs).
    pub dropped_rm: usize,
}

/// Parses the Python source of a script (Python 2 or 3) into statements.
pub fn parse(src: &str, path: &str) -> Result<Vec<rustpython_parser::ast::Stmt>, ImportError> {
    parse_py3(&py2::to_py3(src), path)
}

/// Parses text the Python-2 front end already rewrote.
fn parse_py3(py3: &str, path: &str) -> Result<Vec<rustpython_parser::ast::Stmt>, ImportError> {
    use rustpython_parser::Parse;
    rustpython_parser::ast::Suite::parse(py3, path).map_err(|e| {
        let offset = usize::try_from(u32::from(e.offset))
            .unwrap_or(0)
            .min(py3.len());
        ImportError::Syntax {
            path: path.to_string(),
            line: py3[..offset].matches('\n').count() + 1,
            message: e.error.to_string(),
        }
    })
}

/// Imports the script at `path`.
pub fn import_file(path: &Path) -> Result<Import, ImportError> {
    let src = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    import_str(&src, &file_name)
}

/// Imports a script given as text; `file_name` names it in messages and the recipe.
pub fn import_str(src: &str, file_name: &str) -> Result<Import, ImportError> {
    let (py3, repaired) = repair(py2::to_py3(src), file_name)?;
    let stmts = parse_py3(&py3, file_name)?;
    let stem = file_name.strip_suffix(".py").unwrap_or(file_name);
    let mut out = walk::Walker::new(src, &py3).run(&stmts);
    out.script = file_name.to_string();
    out.repaired = repaired;
    out.name = stem.to_string();
    Ok(out)
}

/// Comments out lines the parser rejects (an indented stray line in an archive script is a
/// syntax error CASA stops at; the rest of the script is still worth importing). Gives up
/// after 20 such lines.
fn repair(mut py3: String, path: &str) -> Result<(String, Vec<(usize, String)>), ImportError> {
    let mut repaired = Vec::new();
    loop {
        match parse_py3(&py3, path) {
            Ok(_) => return Ok((py3, repaired)),
            Err(ImportError::Syntax { line, message, .. })
                if repaired.len() < 20 && !repaired.iter().any(|(l, _)| *l == line) =>
            {
                let mut lines: Vec<String> = py3.split('\n').map(str::to_string).collect();
                let Some(l) = lines.get_mut(line - 1) else {
                    return Err(ImportError::Syntax {
                        path: path.into(),
                        line,
                        message,
                    });
                };
                if l.trim_start().starts_with('#') || l.trim().is_empty() {
                    return Err(ImportError::Syntax {
                        path: path.into(),
                        line,
                        message,
                    });
                }
                *l = format!("# {l}");
                repaired.push((line, message));
                py3 = lines.join("\n");
            }
            Err(e) => return Err(e),
        }
    }
}
