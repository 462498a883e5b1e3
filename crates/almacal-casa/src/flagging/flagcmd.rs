//! flagdata mode='flagcmd' / flagcmd(inpmode='table'): apply the FLAG_CMD subtable's
//! command strings (ALMA's online flags) as manual flags.

use super::Ctx;
use crate::error::Result;
use crate::selection::{Selection, SelectionParams};
use almacal_core::cmdline::parse_kv_line;
use almacal_core::flaglayer::FlagLayer;

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

/// Returns (cells newly flagged, commands used).
pub(crate) fn flag_online(
    ctx: &mut Ctx<'_>,
    useapplied: bool,
    layer: &mut FlagLayer,
) -> Result<(u64, usize)> {
    let mut added = 0;
    let mut used = 0;
    let cmds: Vec<String> = ctx
        .meta
        .flag_cmds
        .iter()
        .filter(|c| useapplied || !c.applied)
        .map(|c| c.command.clone())
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
}
