//! The MeasurementSet v2 table layouts almacal writes: every column of the main table and
//! of each subtable with its type, cell shape, units (`QuantumUnits`) and measure
//! (`MEASINFO`) keywords, as CASA 6.7 itself writes them. The same tables serve the schema
//! validation tests, so what we write and what we check cannot drift apart.

use rubbl_casatables::{GlueDataType, TableDesc, TableDescCreateMode, TableRecord};

/// Element type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Bool,
    Int,
    Float,
    Double,
    Complex,
    String,
}

impl ColType {
    /// The casacore scalar type code.
    pub fn glue(self) -> GlueDataType {
        match self {
            ColType::Bool => GlueDataType::TpBool,
            ColType::Int => GlueDataType::TpInt,
            ColType::Float => GlueDataType::TpFloat,
            ColType::Double => GlueDataType::TpDouble,
            ColType::Complex => GlueDataType::TpComplex,
            ColType::String => GlueDataType::TpString,
        }
    }
}

/// Shape of a column's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Scalar,
    /// Fixed shape, casacore order (first axis fastest).
    Fixed(&'static [u64]),
    /// Variable shape with this many dimensions.
    Var(u64),
}

/// Measure attached to a column through `MEASINFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meas {
    /// `{type: epoch, Ref: UTC}`
    Epoch,
    /// `{type: uvw, Ref: J2000}`
    Uvw,
    /// `{type: position, Ref: ITRF}`
    Position,
    /// `{type: direction, Ref: J2000}`
    Direction,
    /// `{type: frequency, VarRefCol: MEAS_FREQ_REF, TabRefTypes/TabRefCodes}`
    FrequencyVarRef,
}

/// One column of a table layout.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub ty: ColType,
    pub cell: Cell,
    /// `QuantumUnits` keyword (empty: none).
    pub units: &'static [&'static str],
    pub meas: Option<Meas>,
}

const fn col(name: &'static str, ty: ColType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        cell: Cell::Scalar,
        units: &[],
        meas: None,
    }
}

const fn arr(name: &'static str, ty: ColType, ndim: u64) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        cell: Cell::Var(ndim),
        units: &[],
        meas: None,
    }
}

const fn fixed(name: &'static str, ty: ColType, shape: &'static [u64]) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        cell: Cell::Fixed(shape),
        units: &[],
        meas: None,
    }
}

impl ColumnSpec {
    const fn units(mut self, units: &'static [&'static str]) -> Self {
        self.units = units;
        self
    }
    const fn meas(mut self, meas: Meas) -> Self {
        self.meas = Some(meas);
        self
    }
}

use ColType::*;

const S: &[&str] = &["s"];
const HZ: &[&str] = &["Hz"];
const M3: &[&str] = &["m", "m", "m"];
const RAD2: &[&str] = &["rad", "rad"];

const fn time(name: &'static str) -> ColumnSpec {
    col(name, Double).units(S).meas(Meas::Epoch)
}

/// Main-table columns stored with StandardStMan (the big array columns are [`TILED_MAIN`]).
pub const MAIN: &[ColumnSpec] = &[
    fixed("UVW", Double, &[3]).units(M3).meas(Meas::Uvw),
    arr("FLAG_CATEGORY", Bool, 3),
    arr("WEIGHT", Float, 1),
    arr("SIGMA", Float, 1),
    col("ANTENNA1", Int),
    col("ANTENNA2", Int),
    col("ARRAY_ID", Int),
    col("DATA_DESC_ID", Int),
    col("EXPOSURE", Double).units(S),
    col("FEED1", Int),
    col("FEED2", Int),
    col("FIELD_ID", Int),
    col("FLAG_ROW", Bool),
    col("INTERVAL", Double).units(S),
    col("OBSERVATION_ID", Int),
    col("PROCESSOR_ID", Int),
    col("SCAN_NUMBER", Int),
    col("STATE_ID", Int),
    time("TIME"),
    time("TIME_CENTROID"),
];

/// Main-table array columns stored with TiledShapeStMan, `[ncorr, nchan]` cells. Only
/// `DATA` and `FLAG` are always present; the others are optional ([`super::MainLayout`]).
pub const TILED_MAIN: &[ColumnSpec] = &[
    arr("DATA", Complex, 2),
    arr("FLAG", Bool, 2),
    arr("CORRECTED_DATA", Complex, 2),
    arr("MODEL_DATA", Complex, 2),
    arr("WEIGHT_SPECTRUM", Float, 2),
];

pub const ANTENNA: &[ColumnSpec] = &[
    fixed("OFFSET", Double, &[3]).units(M3).meas(Meas::Position),
    fixed("POSITION", Double, &[3])
        .units(M3)
        .meas(Meas::Position),
    col("TYPE", String),
    col("DISH_DIAMETER", Double).units(&["m"]),
    col("FLAG_ROW", Bool),
    col("MOUNT", String),
    col("NAME", String),
    col("STATION", String),
];

pub const DATA_DESCRIPTION: &[ColumnSpec] = &[
    col("FLAG_ROW", Bool),
    col("POLARIZATION_ID", Int),
    col("SPECTRAL_WINDOW_ID", Int),
];

pub const FEED: &[ColumnSpec] = &[
    fixed("POSITION", Double, &[3])
        .units(M3)
        .meas(Meas::Position),
    arr("BEAM_OFFSET", Double, 2)
        .units(RAD2)
        .meas(Meas::Direction),
    arr("POLARIZATION_TYPE", String, 1),
    arr("POL_RESPONSE", Complex, 2),
    arr("RECEPTOR_ANGLE", Double, 1).units(&["rad"]),
    col("ANTENNA_ID", Int),
    col("BEAM_ID", Int),
    col("FEED_ID", Int),
    col("INTERVAL", Double).units(S),
    col("NUM_RECEPTORS", Int),
    col("SPECTRAL_WINDOW_ID", Int),
    time("TIME"),
];

pub const FIELD: &[ColumnSpec] = &[
    arr("DELAY_DIR", Double, 2)
        .units(RAD2)
        .meas(Meas::Direction),
    arr("PHASE_DIR", Double, 2)
        .units(RAD2)
        .meas(Meas::Direction),
    arr("REFERENCE_DIR", Double, 2)
        .units(RAD2)
        .meas(Meas::Direction),
    col("CODE", String),
    col("FLAG_ROW", Bool),
    col("NAME", String),
    col("NUM_POLY", Int),
    col("SOURCE_ID", Int),
    time("TIME"),
];

pub const FLAG_CMD: &[ColumnSpec] = &[
    col("APPLIED", Bool),
    col("COMMAND", String),
    col("INTERVAL", Double).units(S),
    col("LEVEL", Int),
    col("REASON", String),
    col("SEVERITY", Int),
    time("TIME"),
    col("TYPE", String),
];

pub const HISTORY: &[ColumnSpec] = &[
    arr("APP_PARAMS", String, 1),
    arr("CLI_COMMAND", String, 1),
    col("APPLICATION", String),
    col("MESSAGE", String),
    col("OBJECT_ID", Int),
    col("OBSERVATION_ID", Int),
    col("ORIGIN", String),
    col("PRIORITY", String),
    time("TIME"),
];

pub const OBSERVATION: &[ColumnSpec] = &[
    fixed("TIME_RANGE", Double, &[2]).units(S).meas(Meas::Epoch),
    arr("LOG", String, 1),
    arr("SCHEDULE", String, 1),
    col("FLAG_ROW", Bool),
    col("OBSERVER", String),
    col("PROJECT", String),
    time("RELEASE_DATE"),
    col("SCHEDULE_TYPE", String),
    col("TELESCOPE_NAME", String),
];

pub const POINTING: &[ColumnSpec] = &[
    arr("DIRECTION", Double, 2)
        .units(RAD2)
        .meas(Meas::Direction),
    col("ANTENNA_ID", Int),
    col("INTERVAL", Double).units(S),
    col("NAME", String),
    col("NUM_POLY", Int),
    arr("TARGET", Double, 2).units(RAD2).meas(Meas::Direction),
    time("TIME"),
    time("TIME_ORIGIN"),
    col("TRACKING", Bool),
];

pub const POLARIZATION: &[ColumnSpec] = &[
    arr("CORR_TYPE", Int, 1),
    arr("CORR_PRODUCT", Int, 2),
    col("FLAG_ROW", Bool),
    col("NUM_CORR", Int),
];

pub const PROCESSOR: &[ColumnSpec] = &[
    col("FLAG_ROW", Bool),
    col("MODE_ID", Int),
    col("TYPE", String),
    col("TYPE_ID", Int),
    col("SUB_TYPE", String),
];

pub const SPECTRAL_WINDOW: &[ColumnSpec] = &[
    col("MEAS_FREQ_REF", Int),
    arr("CHAN_FREQ", Double, 1)
        .units(HZ)
        .meas(Meas::FrequencyVarRef),
    col("REF_FREQUENCY", Double)
        .units(HZ)
        .meas(Meas::FrequencyVarRef),
    arr("CHAN_WIDTH", Double, 1).units(HZ),
    arr("EFFECTIVE_BW", Double, 1).units(HZ),
    arr("RESOLUTION", Double, 1).units(HZ),
    col("FLAG_ROW", Bool),
    col("FREQ_GROUP", Int),
    col("FREQ_GROUP_NAME", String),
    col("IF_CONV_CHAIN", Int),
    col("NAME", String),
    col("NET_SIDEBAND", Int),
    col("NUM_CHAN", Int),
    col("TOTAL_BANDWIDTH", Double).units(HZ),
    col("BBC_NO", Int),
];

pub const STATE: &[ColumnSpec] = &[
    col("CAL", Double).units(&["K"]),
    col("FLAG_ROW", Bool),
    col("LOAD", Double).units(&["K"]),
    col("OBS_MODE", String),
    col("REF", Bool),
    col("SIG", Bool),
    col("SUB_SCAN", Int),
];

pub const SOURCE: &[ColumnSpec] = &[
    fixed("DIRECTION", Double, &[2])
        .units(RAD2)
        .meas(Meas::Direction),
    fixed("PROPER_MOTION", Double, &[2]).units(&["rad/s"]),
    col("CALIBRATION_GROUP", Int),
    col("CODE", String),
    col("INTERVAL", Double).units(S),
    col("NAME", String),
    col("NUM_LINES", Int),
    col("SOURCE_ID", Int),
    col("SPECTRAL_WINDOW_ID", Int),
    time("TIME"),
];

pub const SYSCAL: &[ColumnSpec] = &[
    col("ANTENNA_ID", Int),
    col("FEED_ID", Int),
    col("INTERVAL", Double).units(S),
    col("SPECTRAL_WINDOW_ID", Int),
    time("TIME"),
    arr("TSYS_SPECTRUM", Float, 2),
    arr("TSYS", Float, 1),
    arr("TRX_SPECTRUM", Float, 2),
    arr("TSKY_SPECTRUM", Float, 2),
    arr("TCAL_SPECTRUM", Float, 2),
    arr("TCAL", Float, 1),
    col("TSYS_SPECTRUM_FLAG", Bool),
    col("TSYS_FLAG", Bool),
];

/// Every subtable almacal writes, by keyword name. The first twelve are required by the
/// MS v2 definition; SOURCE and SYSCAL are optional ones ALMA data always carry.
pub const SUBTABLES: &[(&str, &[ColumnSpec])] = &[
    ("ANTENNA", ANTENNA),
    ("DATA_DESCRIPTION", DATA_DESCRIPTION),
    ("FEED", FEED),
    ("FIELD", FIELD),
    ("FLAG_CMD", FLAG_CMD),
    ("HISTORY", HISTORY),
    ("OBSERVATION", OBSERVATION),
    ("POINTING", POINTING),
    ("POLARIZATION", POLARIZATION),
    ("PROCESSOR", PROCESSOR),
    ("SPECTRAL_WINDOW", SPECTRAL_WINDOW),
    ("STATE", STATE),
    ("SOURCE", SOURCE),
    ("SYSCAL", SYSCAL),
];

/// Names of the subtables the MS v2 definition requires.
pub const REQUIRED_SUBTABLES: &[&str] = &[
    "ANTENNA",
    "DATA_DESCRIPTION",
    "FEED",
    "FIELD",
    "FLAG_CMD",
    "HISTORY",
    "OBSERVATION",
    "POINTING",
    "POLARIZATION",
    "PROCESSOR",
    "SPECTRAL_WINDOW",
    "STATE",
];

/// The layout of subtable `name`, if almacal knows it.
pub fn subtable_spec(name: &str) -> Option<&'static [ColumnSpec]> {
    SUBTABLES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

const FREQ_REF_TYPES: [&str; 10] = [
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
];
const FREQ_REF_CODES: [u32; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 64];

/// The `MEASINFO` record of a measure.
pub fn measinfo(meas: Meas) -> Result<TableRecord, rubbl_casatables::TableError> {
    let mut r = TableRecord::new()?;
    let (ty, rf) = match meas {
        Meas::Epoch => ("epoch", Some("UTC")),
        Meas::Uvw => ("uvw", Some("J2000")),
        Meas::Position => ("position", Some("ITRF")),
        Meas::Direction => ("direction", Some("J2000")),
        Meas::FrequencyVarRef => ("frequency", None),
    };
    r.put_field("type", &ty.to_string())?;
    match rf {
        Some(rf) => r.put_field("Ref", &rf.to_string())?,
        None => {
            r.put_field("VarRefCol", &"MEAS_FREQ_REF".to_string())?;
            let types: Vec<std::string::String> =
                FREQ_REF_TYPES.iter().map(|s| s.to_string()).collect();
            r.put_field("TabRefTypes", &types)?;
            r.put_field("TabRefCodes", &FREQ_REF_CODES.to_vec())?;
        }
    }
    Ok(r)
}

/// Add `spec` (columns and their keywords) to a table description.
pub fn add_columns(
    desc: &mut TableDesc,
    spec: &[ColumnSpec],
) -> Result<(), rubbl_casatables::TableError> {
    for c in spec {
        match c.cell {
            Cell::Scalar => desc.add_scalar_column(c.ty.glue(), c.name, None, false, false)?,
            Cell::Fixed(shape) => {
                // rubbl takes shapes in row-major order; casacore order is reversed.
                let rev: Vec<u64> = shape.iter().rev().copied().collect();
                desc.add_array_column(c.ty.glue(), c.name, None, Some(&rev), true, false)?
            }
            Cell::Var(ndim) => {
                desc.add_array_column(c.ty.glue(), c.name, None, None, false, false)?;
                desc.set_ndims(c.name, ndim)?;
            }
        }
        if !c.units.is_empty() {
            let units: Vec<std::string::String> = c.units.iter().map(|s| s.to_string()).collect();
            desc.put_column_keyword(c.name, "QuantumUnits", &units)?;
        }
        if let Some(m) = c.meas {
            desc.put_column_keyword(c.name, "MEASINFO", &measinfo(m)?)?;
        }
        if c.name == "FLAG_CATEGORY" {
            desc.put_column_keyword(c.name, "CATEGORY", &Vec::<std::string::String>::new())?;
        }
    }
    Ok(())
}

/// A scratch table description holding `spec`.
pub fn table_desc(spec: &[ColumnSpec]) -> Result<TableDesc, rubbl_casatables::TableError> {
    let mut desc = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH)?;
    add_columns(&mut desc, spec)?;
    Ok(desc)
}
