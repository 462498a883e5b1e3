//! Table descriptions of a CASA 6.7 NewCalTable and its subtables (algorithms.md §10.1,
//! §10.3): column names, types, shapes and units/measure keywords.

use rubbl_casatables::{
    GlueDataType as T, TableDesc, TableDescCreateMode, TableError, TableRecord,
};

pub(crate) fn main_desc(par: super::ParType) -> Result<TableDesc, TableError> {
    let mut d = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH)?;
    d.add_scalar_column(T::TpDouble, "TIME", None, true, false)?;
    d.add_scalar_column(T::TpInt, "FIELD_ID", None, true, false)?;
    d.add_scalar_column(T::TpInt, "SPECTRAL_WINDOW_ID", None, true, false)?;
    d.add_scalar_column(T::TpInt, "ANTENNA1", None, true, false)?;
    d.add_scalar_column(T::TpInt, "ANTENNA2", None, true, false)?;
    d.add_scalar_column(T::TpDouble, "INTERVAL", None, true, false)?;
    d.add_scalar_column(T::TpInt, "SCAN_NUMBER", None, true, false)?;
    d.add_scalar_column(T::TpInt, "OBSERVATION_ID", None, true, false)?;
    match par {
        super::ParType::Complex => {
            d.add_array_column(T::TpComplex, "CPARAM", None, None, false, false)?
        }
        super::ParType::Float => {
            d.add_array_column(T::TpFloat, "FPARAM", None, None, false, false)?
        }
    }
    d.add_array_column(T::TpFloat, "PARAMERR", None, None, false, false)?;
    d.add_array_column(T::TpBool, "FLAG", None, None, false, false)?;
    d.add_array_column(T::TpFloat, "SNR", None, None, false, false)?;
    d.add_array_column(T::TpFloat, "WEIGHT", None, None, false, false)?;
    Ok(d)
}

pub(crate) fn antenna_desc() -> Result<TableDesc, TableError> {
    let mut d = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH)?;
    d.add_array_column(
        T::TpDouble,
        "OFFSET",
        Some("Axes offset of mount to FEED REFERENCE point"),
        Some(&[3]),
        true,
        false,
    )?;
    d.add_array_column(
        T::TpDouble,
        "POSITION",
        Some("Antenna X,Y,Z phase reference position"),
        Some(&[3]),
        true,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "TYPE",
        Some("Antenna type (e.g. SPACE-BASED)"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpDouble,
        "DISH_DIAMETER",
        Some("Physical diameter of dish"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpBool,
        "FLAG_ROW",
        Some("Flag for this row"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "MOUNT",
        Some("Mount type e.g. alt-az, equatorial, etc."),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "NAME",
        Some("Antenna name, e.g. VLA22, CA03"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "STATION",
        Some("Station (antenna pad) name"),
        false,
        false,
    )?;
    Ok(d)
}

pub(crate) fn field_desc() -> Result<TableDesc, TableError> {
    let mut d = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH)?;
    for (c, comment) in [
        (
            "DELAY_DIR",
            "Direction of delay center (e.g. RA, DEC)as polynomial in time.",
        ),
        ("PHASE_DIR", "Direction of phase center (e.g. RA, DEC)."),
        (
            "REFERENCE_DIR",
            "Direction of REFERENCE center (e.g. RA, DEC).as polynomial in time.",
        ),
    ] {
        d.add_array_column(T::TpDouble, c, Some(comment), None, false, false)?;
        d.set_ndims(c, 2)?;
    }
    d.add_scalar_column(
        T::TpString,
        "CODE",
        Some("Special characteristics of field, e.g. Bandpass calibrator"),
        false,
        false,
    )?;
    d.add_scalar_column(T::TpBool, "FLAG_ROW", Some("Row Flag"), false, false)?;
    d.add_scalar_column(
        T::TpString,
        "NAME",
        Some("Name of this field"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpInt,
        "NUM_POLY",
        Some("Polynomial order of _DIR columns"),
        false,
        false,
    )?;
    d.add_scalar_column(T::TpInt, "SOURCE_ID", Some("Source id"), false, false)?;
    d.add_scalar_column(
        T::TpDouble,
        "TIME",
        Some("Time origin for direction and rate"),
        false,
        false,
    )?;
    Ok(d)
}

pub(crate) fn spw_desc() -> Result<TableDesc, TableError> {
    let mut d = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH)?;
    d.add_scalar_column(
        T::TpInt,
        "MEAS_FREQ_REF",
        Some("Frequency Measure reference"),
        false,
        false,
    )?;
    d.add_array_column(
        T::TpDouble,
        "CHAN_FREQ",
        Some("Center frequencies for each channel in the data matrix"),
        None,
        false,
        false,
    )?;
    d.set_ndims("CHAN_FREQ", 1)?;
    d.add_scalar_column(
        T::TpDouble,
        "REF_FREQUENCY",
        Some("The reference frequency"),
        false,
        false,
    )?;
    for (c, comment) in [
        ("CHAN_WIDTH", "Channel width for each channel"),
        ("EFFECTIVE_BW", "Effective noise bandwidth of each channel"),
        (
            "RESOLUTION",
            "The effective noise bandwidth for each channel",
        ),
    ] {
        d.add_array_column(T::TpDouble, c, Some(comment), None, false, false)?;
        d.set_ndims(c, 1)?;
    }
    d.add_scalar_column(T::TpBool, "FLAG_ROW", Some("Row flag"), false, false)?;
    d.add_scalar_column(
        T::TpInt,
        "FREQ_GROUP",
        Some("Frequency group"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "FREQ_GROUP_NAME",
        Some("Frequency group name"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpInt,
        "IF_CONV_CHAIN",
        Some("The IF conversion chain number"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "NAME",
        Some("Spectral window name"),
        false,
        false,
    )?;
    d.add_scalar_column(T::TpInt, "NET_SIDEBAND", Some("Net sideband"), false, false)?;
    d.add_scalar_column(
        T::TpInt,
        "NUM_CHAN",
        Some("Number of spectral channels"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpDouble,
        "TOTAL_BANDWIDTH",
        Some("The total bandwidth for this window"),
        false,
        false,
    )?;
    Ok(d)
}

pub(crate) fn observation_desc() -> Result<TableDesc, TableError> {
    let mut d = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH)?;
    d.add_array_column(
        T::TpDouble,
        "TIME_RANGE",
        Some("Start and end of observation"),
        Some(&[2]),
        true,
        false,
    )?;
    d.add_array_column(
        T::TpString,
        "LOG",
        Some("Observing log"),
        None,
        false,
        false,
    )?;
    d.set_ndims("LOG", 1)?;
    d.add_array_column(
        T::TpString,
        "SCHEDULE",
        Some("Observing schedule"),
        None,
        false,
        false,
    )?;
    d.set_ndims("SCHEDULE", 1)?;
    d.add_scalar_column(T::TpBool, "FLAG_ROW", Some("Row flag"), false, false)?;
    d.add_scalar_column(
        T::TpString,
        "OBSERVER",
        Some("Name of observer(s)"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "PROJECT",
        Some("Project identification string"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpDouble,
        "RELEASE_DATE",
        Some("Release date when data becomes public"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "SCHEDULE_TYPE",
        Some("Observing schedule type"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "TELESCOPE_NAME",
        Some("Telescope Name (e.g. WSRT, VLBA)"),
        false,
        false,
    )?;
    Ok(d)
}

pub(crate) fn history_desc() -> Result<TableDesc, TableError> {
    let mut d = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH)?;
    d.add_array_column(
        T::TpString,
        "APP_PARAMS",
        Some("Application parameters"),
        None,
        false,
        false,
    )?;
    d.set_ndims("APP_PARAMS", 1)?;
    d.add_array_column(
        T::TpString,
        "CLI_COMMAND",
        Some("CLI command sequence"),
        None,
        false,
        false,
    )?;
    d.set_ndims("CLI_COMMAND", 1)?;
    d.add_scalar_column(
        T::TpString,
        "APPLICATION",
        Some("Application name"),
        false,
        false,
    )?;
    d.add_scalar_column(T::TpString, "MESSAGE", Some("Log message"), false, false)?;
    d.add_scalar_column(
        T::TpInt,
        "OBJECT_ID",
        Some("Originating ObjectID"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpInt,
        "OBSERVATION_ID",
        Some("Observation id (index in OBSERVATION table)"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "ORIGIN",
        Some("(Source code) origin from which message originated"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpString,
        "PRIORITY",
        Some("Message priority"),
        false,
        false,
    )?;
    d.add_scalar_column(
        T::TpDouble,
        "TIME",
        Some("Timestamp of message"),
        false,
        false,
    )?;
    Ok(d)
}

/// A `MEASINFO` record `{type, Ref}`.
pub(crate) fn measinfo(kind: &str, reference: &str) -> Result<TableRecord, TableError> {
    let mut r = TableRecord::new()?;
    r.put_field("type", &kind.to_string())?;
    r.put_field("Ref", &reference.to_string())?;
    Ok(r)
}

/// The frequency MEASINFO with a variable reference column.
pub(crate) fn freq_measinfo() -> Result<TableRecord, TableError> {
    let mut r = TableRecord::new()?;
    r.put_field("type", &"frequency".to_string())?;
    r.put_field("VarRefCol", &"MEAS_FREQ_REF".to_string())?;
    let types: Vec<String> = [
        "REST",
        "LSRK",
        "LSRD",
        "BARY",
        "GEO",
        "TOPO",
        "GALACTO",
        "LGROUP",
        "CMB",
        "Undefined",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    r.put_field("TabRefTypes", &types)?;
    r.put_field("TabRefCodes", &vec![0u32, 1, 2, 3, 4, 5, 6, 7, 8, 64])?;
    Ok(r)
}

pub(crate) fn units(u: &[&str]) -> Vec<String> {
    u.iter().map(|s| s.to_string()).collect()
}
