//! `plots = [...]` on a stage: the diagnostic plots a run makes of the stage's products
//! once the stage has succeeded (the tutorial's plotms / plotbandpass / plotants views).
//!
//! Plot names depend on the task: a gaincal stage plots its solutions (`gain`,
//! `phase_time`, `amp_time`), an applycal/split stage plots the visibilities it wrote
//! (`amp_uvdist`, `amp_time`, `phase_time`, `amp_freq`, `phase_freq`). Plots are not task
//! parameters: they are not part of the stage's fingerprint, so adding or removing one
//! never reruns the stage, only makes the plots.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;
use crate::raw::{Node, RawValue};
use crate::source::SourceFile;
use crate::suggest::did_you_mean;
use crate::value::Params;

/// One plot a stage can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlotName {
    /// Tsys vs frequency per antenna, coloured by scan (gencal tsys).
    Tsys,
    /// Antenna positions, reference antenna marked (gencal antpos).
    Ants,
    /// Both `phase_time` and `amp_time` of a gain table.
    Gain,
    /// Phase vs time: gain solutions, or visibilities of a vis product.
    PhaseTime,
    /// Amplitude vs time: gain solutions, or visibilities of a vis product.
    AmpTime,
    /// Bandpass amplitude and phase vs frequency per antenna.
    Bandpass,
    /// Visibility amplitude vs uv-distance (calibrators).
    AmpUvdist,
    /// Visibility amplitude vs frequency, averaged over time and baselines (calibrators).
    AmpFreq,
    /// Visibility phase vs frequency, averaged over time and baselines (calibrators).
    PhaseFreq,
    /// Renormalization scaling spectra per antenna with the threshold (renorm).
    Renorm,
    /// The flag commands as bars per antenna vs time, coloured by reason (flagcmd).
    #[serde(rename = "flagcmd")]
    FlagCmd,
}

impl PlotName {
    /// Every plot name, in documentation order.
    pub const ALL: &'static [PlotName] = &[
        PlotName::Tsys,
        PlotName::Ants,
        PlotName::Gain,
        PlotName::PhaseTime,
        PlotName::AmpTime,
        PlotName::Bandpass,
        PlotName::AmpUvdist,
        PlotName::AmpFreq,
        PlotName::PhaseFreq,
        PlotName::Renorm,
        PlotName::FlagCmd,
    ];

    /// The name written in recipes.
    pub fn as_str(self) -> &'static str {
        match self {
            PlotName::Tsys => "tsys",
            PlotName::Ants => "ants",
            PlotName::Gain => "gain",
            PlotName::PhaseTime => "phase_time",
            PlotName::AmpTime => "amp_time",
            PlotName::Bandpass => "bandpass",
            PlotName::AmpUvdist => "amp_uvdist",
            PlotName::AmpFreq => "amp_freq",
            PlotName::PhaseFreq => "phase_freq",
            PlotName::Renorm => "renorm",
            PlotName::FlagCmd => "flagcmd",
        }
    }

    /// Parse a recipe name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for PlotName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const VIS_PLOTS: &[PlotName] = &[
    PlotName::AmpUvdist,
    PlotName::AmpTime,
    PlotName::PhaseTime,
    PlotName::AmpFreq,
    PlotName::PhaseFreq,
];
const GAIN_PLOTS: &[PlotName] = &[PlotName::Gain, PlotName::PhaseTime, PlotName::AmpTime];

/// The plots a stage of `task` with these resolved parameters can make.
pub fn allowed(task: &str, params: &Params) -> &'static [PlotName] {
    match task {
        "gencal" => match params.get("caltype").and_then(|v| v.as_str()) {
            Some("tsys") => &[PlotName::Tsys],
            Some("antpos") => &[PlotName::Ants],
            _ => &[],
        },
        "gaincal" | "fluxscale" => GAIN_PLOTS,
        "bandpass" => &[PlotName::Bandpass],
        "renorm" => &[PlotName::Renorm],
        "flagcmd" => &[PlotName::FlagCmd],
        "applycal" | "split" | "mstransform" => VIS_PLOTS,
        _ => &[],
    }
}

/// Which task (and parameter) offers a plot, for "use it on ..." help.
fn offered_by(name: PlotName) -> &'static str {
    match name {
        PlotName::Tsys => "gencal stages with caltype = \"tsys\"",
        PlotName::Ants => "gencal stages with caltype = \"antpos\"",
        PlotName::Gain => "gaincal and fluxscale stages",
        PlotName::PhaseTime | PlotName::AmpTime => {
            "gaincal and fluxscale stages (solutions) and applycal, split and mstransform stages (visibilities)"
        }
        PlotName::Bandpass => "bandpass stages",
        PlotName::AmpUvdist | PlotName::AmpFreq | PlotName::PhaseFreq => {
            "applycal, split and mstransform stages"
        }
        PlotName::Renorm => "renorm stages",
        PlotName::FlagCmd => "flagcmd stages",
    }
}

fn quoted(names: &[PlotName]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `plots` entries as written: (name, span), or a diagnostic for a wrong type.
pub(crate) fn collect(
    src: &SourceFile,
    node: &Node,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, Range<usize>)> {
    let type_err = |span: Range<usize>, found: &str| {
        Diagnostic::at(
            src,
            span,
            format!("`plots` must be a list of plot names (strings), found {found}"),
        )
        .with_help("e.g. plots = [\"amp_uvdist\", \"amp_time\"]")
    };
    match &node.value {
        RawValue::Str(s) => vec![(s.clone(), node.span.clone())],
        RawValue::Array(items) => items
            .iter()
            .filter_map(|item| match &item.value {
                RawValue::Str(s) => Some((s.clone(), item.span.clone())),
                other => {
                    diags.push(type_err(item.span.clone(), other.type_name()));
                    None
                }
            })
            .collect(),
        other => {
            diags.push(type_err(node.span.clone(), other.type_name()));
            Vec::new()
        }
    }
}

/// Check each written plot name against what `task` offers; returns the valid ones in
/// the order written, without duplicates.
pub(crate) fn check(
    src: &SourceFile,
    stage: &str,
    task: &str,
    params: &Params,
    written: &[(String, Range<usize>)],
    diags: &mut Vec<Diagnostic>,
) -> Vec<PlotName> {
    let ok = allowed(task, params);
    let mut out = Vec::new();
    for (name, span) in written {
        match PlotName::parse(name) {
            Some(p) if ok.contains(&p) => {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            Some(p) => {
                let caltype = params
                    .get("caltype")
                    .and_then(|v| v.as_str())
                    .filter(|_| task == "gencal");
                let kind = match caltype {
                    Some(c) => format!("{task} stages with caltype = \"{c}\""),
                    None => format!("{task} stages"),
                };
                let what = if ok.is_empty() {
                    format!("{kind} make no plots")
                } else {
                    format!("{kind} make {}", quoted(ok))
                };
                diags.push(
                    Diagnostic::at(
                        src,
                        span.clone(),
                        format!("plot \"{p}\" is not available for stage `{stage}`: {what}"),
                    )
                    .with_help(format!("\"{p}\" is made by {}", offered_by(p))),
                );
            }
            None => {
                let candidates: &[PlotName] = if ok.is_empty() { PlotName::ALL } else { ok };
                let help = did_you_mean(name, candidates.iter().map(|p| p.as_str()))
                    .or_else(|| did_you_mean(name, PlotName::ALL.iter().map(|p| p.as_str())))
                    .unwrap_or_else(|| {
                        if ok.is_empty() {
                            format!("{task} stages make no plots")
                        } else {
                            format!("{task} stages make {}", quoted(ok))
                        }
                    });
                diags.push(
                    Diagnostic::at(
                        src,
                        span.clone(),
                        format!("unknown plot \"{name}\" in stage `{stage}` (task {task})"),
                    )
                    .with_help(help),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ParamValue;

    #[test]
    fn names_round_trip() {
        for p in PlotName::ALL {
            assert_eq!(PlotName::parse(p.as_str()), Some(*p));
            let json = serde_json::to_string(p).expect("json");
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        assert_eq!(PlotName::parse("amp-uvdist"), None);
    }

    #[test]
    fn gencal_plots_follow_caltype() {
        let mut params = Params::new();
        params.insert("caltype".into(), ParamValue::Str("tsys".into()));
        assert_eq!(allowed("gencal", &params), &[PlotName::Tsys]);
        params.insert("caltype".into(), ParamValue::Str("antpos".into()));
        assert_eq!(allowed("gencal", &params), &[PlotName::Ants]);
        assert!(allowed("flagdata", &params).is_empty());
        assert!(allowed("applycal", &params).contains(&PlotName::AmpUvdist));
    }
}
