//! flagdata mode='flagcmd' / flagcmd(inpmode='table'): apply the FLAG_CMD subtable's
//! command strings (ALMA's online flags) as manual flags.

use super::Ctx;
use crate::error::Result;
use crate::selection::{Selection, SelectionParams};
use almacal_core::cmdline::parse_kv_line;
use almacal_core::flaglayer::FlagLayer;
use almacal_core::meta::FlagCmdRow;

/// Selection parameters of one FLAG_CMD command string; `None` if it is not a
/// manual flag command (other modes and malformed strings are skipped, as CASA warns).
pub fn command_selection(command: &str) -> Option<SelectionParams> {
    let kv = parse_kv_line(command).ok()?;
    let mut p = SelectionParams::default();
    for k in kv {
        match k.key.as_str() {
            "mode" if k.value != "manual" => return None,
            "field" => p.field = k.value,
            "spw" => p.spw = k.value,
            "antenna" => p.antenna = k.value,
            "scan" => p.scan = k.value,
            "intent" => p.intent = k.value,
            "timerange" => p.timerange = k.value,
            "uvrange" => p.uvrange = k.value,
            "correlation" => p.correlation = k.value,
            "observation" => p.observation = k.value,
            _ => {}
        }
    }
    Some(p)
}

/// Why no FLAG_CMD rows could be selected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagCmdSelectError {
    #[error("tablerows: row {row} does not exist (FLAG_CMD has {nrows} rows, numbered from 0)")]
    NoSuchRow { row: i64, nrows: usize },
    /// CASA's own message (flagcmd raises it when nothing is left to apply).
    #[error("There are no unapplied flags in the input. Set useapplied=True to also use the previously-applied flags.")]
    NothingLeft,
}

/// The FLAG_CMD rows a `flagcmd(inpmode='table')` call uses, in table order, as CASA 6.7
/// selects them (fixtures/scenarios/research/fixsyscaltimes_flagcmd.md §B): the
/// `tablerows` (all rows when empty), then unapplied rows only unless `useapplied`, then
/// rows whose REASON equals one of `reason` exactly (empty, or `["any"]`: no filter), and
/// never rows with an empty COMMAND. TYPE, TIME, INTERVAL, LEVEL and SEVERITY do not
/// matter. Nothing left is an error, as in CASA.
pub fn select_flag_cmds(
    rows: &[FlagCmdRow],
    tablerows: &[i64],
    useapplied: bool,
    reason: &[String],
) -> std::result::Result<Vec<usize>, FlagCmdSelectError> {
    let mut picked: Vec<usize> = if tablerows.is_empty() {
        (0..rows.len()).collect()
    } else {
        let mut v = Vec::new();
        for &r in tablerows {
            let i = usize::try_from(r).ok().filter(|&i| i < rows.len()).ok_or(
                FlagCmdSelectError::NoSuchRow {
                    row: r,
                    nrows: rows.len(),
                },
            )?;
            if !v.contains(&i) {
                v.push(i);
            }
        }
        v.sort_unstable();
        v
    };
    let any = reason.is_empty() || reason.iter().all(|r| r == "any");
    picked.retain(|&i| {
        let c = &rows[i];
        (useapplied || !c.applied)
            && (any || reason.contains(&c.reason))
            && !c.command.trim().is_empty()
    });
    if picked.is_empty() {
        return Err(FlagCmdSelectError::NothingLeft);
    }
    Ok(picked)
}

/// Returns (cells newly flagged, commands used). An MS whose FLAG_CMD selects nothing
/// flags nothing here (flagdata's mode 'table' on simulated data); the flagcmd task
/// reports that as CASA's error instead.
pub(crate) fn flag_online(
    ctx: &mut Ctx<'_>,
    useapplied: bool,
    reason: &[String],
    layer: &mut FlagLayer,
) -> Result<(u64, usize)> {
    let mut added = 0;
    let mut used = 0;
    let rows = &ctx.meta.flag_cmds;
    let cmds: Vec<String> = select_flag_cmds(rows, &[], useapplied, reason)
        .unwrap_or_default()
        .into_iter()
        .map(|i| rows[i].command.clone())
        .collect();
    for command in cmds {
        let Some(p) = command_selection(&command) else {
            continue;
        };
        // A command naming something absent from this MS flags nothing.
        let Ok(sel) = Selection::resolve(ctx.meta, &p) else {
            continue;
        };
        let rows = ctx.rows(&sel)?;
        added += super::flag_rows(ctx, &sel, &rows, layer);
        used += 1;
    }
    Ok((added, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_alma_online_flags() {
        let p = command_selection(
            "antenna='CM03&&*' timerange='2016/04/15/06:22:32.157~2016/04/15/06:23:32.637'",
        )
        .unwrap();
        assert_eq!(p.antenna, "CM03&&*");
        assert_eq!(
            p.timerange,
            "2016/04/15/06:22:32.157~2016/04/15/06:23:32.637"
        );
        assert!(command_selection("mode='clip' clipzeros=True").is_none());
    }

    fn row(reason: &str, applied: bool, command: &str) -> FlagCmdRow {
        FlagCmdRow {
            time_s: 0.0,
            interval_s: 0.0,
            kind: "FLAG".into(),
            reason: reason.into(),
            level: 0,
            severity: 0,
            applied,
            command: command.into(),
        }
    }

    /// CASA's order of row selection: tablerows, useapplied, exact reason, empty command.
    #[test]
    fn selects_rows_as_casa() {
        let rows = vec![
            row("FocusError", false, "antenna='CM08&&*'"),
            row("ACD_motor_speed_error", true, "antenna='CM03&&*'"),
            row("FocusError", false, ""),
            row("focuserror", false, "antenna='CM10&&*'"),
        ];
        let s = |t: &[i64], u: bool, r: &[&str]| {
            let r: Vec<String> = r.iter().map(|x| x.to_string()).collect();
            select_flag_cmds(&rows, t, u, &r)
        };
        assert_eq!(s(&[], true, &["any"]), Ok(vec![0, 1, 3]));
        assert_eq!(s(&[], false, &[]), Ok(vec![0, 3]));
        assert_eq!(s(&[], true, &["FocusError"]), Ok(vec![0]));
        assert_eq!(s(&[3, 1], true, &[]), Ok(vec![1, 3]));
        assert_eq!(s(&[1], false, &[]), Err(FlagCmdSelectError::NothingLeft));
        assert_eq!(
            s(&[], true, &["Focus"]),
            Err(FlagCmdSelectError::NothingLeft)
        );
        assert!(matches!(
            s(&[7], true, &[]),
            Err(FlagCmdSelectError::NoSuchRow { row: 7, .. })
        ));
    }
}
