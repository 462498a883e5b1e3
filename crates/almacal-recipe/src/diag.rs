//! Diagnostics: one error with its file:line:column, an optional "help" line
//! (e.g. a "did you mean" suggestion), and the rendering shown to users.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use crate::source::{LineCol, SourceFile};

/// What a diagnostic is about; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagKind {
    /// The recipe itself is wrong (syntax, schema, values, references).
    Recipe,
    /// The recipe is fine but the data it names is missing or unusable.
    InputData,
}

/// One located error.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub kind: DiagKind,
    pub file: PathBuf,
    pub pos: LineCol,
    pub message: String,
    /// The source line the error points into, and the caret width.
    pub snippet: Option<(String, usize)>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic located at `span` of `src`.
    pub fn at(src: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Self {
        let pos = src.line_col(span.start);
        let line = src.line_text(pos.line).to_string();
        let end = src.line_col(span.end.max(span.start));
        let width = if end.line == pos.line {
            end.col.saturating_sub(pos.col).max(1)
        } else {
            line.chars().count().saturating_sub(pos.col - 1).max(1)
        };
        Self {
            kind: DiagKind::Recipe,
            file: src.path.clone(),
            pos,
            message: message.into(),
            snippet: Some((line, width)),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn input_data(mut self) -> Self {
        self.kind = DiagKind::InputData;
        self
    }
}

/// Where a resolved stage parameter was written, kept in the [`crate::Stage`] so that
/// checks made later (against the input data, by `almacal check`) report at the same
/// place as the checks made while loading: the value in the stage (or a flag file line),
/// the value in `[defaults]`, or the stage header for CASA's default.
#[derive(Debug, Clone)]
pub struct ParamSite {
    pub file: PathBuf,
    pub pos: LineCol,
    pub snippet: Option<(String, usize)>,
    pub origin: SiteOrigin,
}

/// Where a parameter's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteOrigin {
    /// Written in the stage (or in its flag file).
    Stage,
    /// From `[defaults]`.
    Defaults,
    /// CASA's default (the site is the stage header).
    CasaDefault,
}

impl ParamSite {
    pub fn at(src: &SourceFile, span: Range<usize>, origin: SiteOrigin) -> Self {
        let d = Diagnostic::at(src, span, "");
        Self {
            file: d.file,
            pos: d.pos,
            snippet: d.snippet,
            origin,
        }
    }

    /// An error at this site.
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            kind: DiagKind::Recipe,
            file: self.file.clone(),
            pos: self.pos,
            message: message.into(),
            snippet: self.snippet.clone(),
            help: None,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: error: {}",
            self.file.display(),
            self.pos.line,
            self.pos.col,
            self.message
        )?;
        if let Some((line, width)) = &self.snippet {
            let num = self.pos.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {line}")?;
            writeln!(
                f,
                "{pad} | {}{}",
                " ".repeat(self.pos.col - 1),
                "^".repeat(*width)
            )?;
        }
        if let Some(help) = &self.help {
            writeln!(
                f,
                "{} = help: {help}",
                " ".repeat(self.pos.line.to_string().len())
            )?;
        }
        Ok(())
    }
}

/// Every error found in a recipe, in source order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", render(.0))]
pub struct RecipeErrors(pub Vec<Diagnostic>);

impl RecipeErrors {
    /// True when every error is about input data, not the recipe text.
    pub fn only_input_data(&self) -> bool {
        !self.0.is_empty() && self.0.iter().all(|d| d.kind == DiagKind::InputData)
    }
}

fn render(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} error{} found",
        diags.len(),
        if diags.len() == 1 { "" } else { "s" }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_snippet_and_help() {
        let src = SourceFile::new("r.toml", "[stage.a]\nsoilnt = 1\n".to_string());
        let d = Diagnostic::at(&src, 10..16, "unknown parameter `soilnt`")
            .with_help("did you mean `solint`?");
        let text = d.to_string();
        assert_eq!(
            text,
            "r.toml:2:1: error: unknown parameter `soilnt`\n  |\n2 | soilnt = 1\n  | ^^^^^^\n  = help: did you mean `solint`?\n"
        );
    }
}
