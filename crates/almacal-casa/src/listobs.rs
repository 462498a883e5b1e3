//! What `almacal listobs` reports: a JSON summary with a stable schema and a text rendering
//! laid out like CASA's listobs (observation span, scans, fields, spws, antennas).

use almacal_core::meta::MsMeta;
use almacal_core::time::{format_casa_date, format_time_of_day};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct FieldJson {
    pub id: u32,
    pub name: String,
    pub code: String,
    pub ra_rad: f64,
    pub dec_rad: f64,
    pub nrows: u64,
}

#[derive(Debug, Serialize)]
pub struct SpwJson {
    pub id: u32,
    pub name: String,
    pub nchan: usize,
    pub chan0_hz: f64,
    pub chan_width_hz: f64,
    pub total_bw_hz: f64,
    pub ref_freq_hz: f64,
    pub centre_hz: f64,
    pub frame: String,
    pub corrs: Vec<String>,
    pub bbc_no: Option<i32>,
}

#[derive(Debug, Serialize)]
pub struct ScanJson {
    pub scan: i32,
    pub field_id: u32,
    pub field_name: String,
    pub start_s: f64,
    pub end_s: f64,
    pub intents: Vec<String>,
    pub nrows: u64,
    pub spw_ids: Vec<u32>,
    pub intervals_s: Vec<f64>,
}

#[derive(Debug, Serialize)]
pub struct AntennaJson {
    pub id: u32,
    pub name: String,
    pub station: String,
    pub diameter_m: f64,
    pub position_m: [f64; 3],
}

#[derive(Debug, Serialize)]
pub struct ListobsJson {
    pub ms: String,
    pub telescope: String,
    pub observer: String,
    pub project: String,
    pub start_s: f64,
    pub end_s: f64,
    pub nrows: u64,
    pub fields: Vec<FieldJson>,
    pub spws: Vec<SpwJson>,
    pub scans: Vec<ScanJson>,
    pub antennas: Vec<AntennaJson>,
}

/// Build the JSON summary.
pub fn summary(meta: &MsMeta) -> ListobsJson {
    let (start_s, end_s) = meta.time_span_s().unwrap_or((0.0, 0.0));
    let obs = meta.observations.first();
    // Correlations of a spw: those of its first data description (CASA shows one setup).
    let corrs_of_spw = |spw: u32| -> Vec<String> {
        meta.data_descs
            .iter()
            .find(|d| d.spw.0 == spw)
            .and_then(|d| meta.pols.get(d.pol as usize))
            .map(|p| p.corr_types.iter().map(|c| c.name()).collect())
            .unwrap_or_default()
    };
    ListobsJson {
        ms: meta.path.clone(),
        telescope: obs.map(|o| o.telescope.clone()).unwrap_or_default(),
        observer: obs.map(|o| o.observer.clone()).unwrap_or_default(),
        project: obs.map(|o| o.project.clone()).unwrap_or_default(),
        start_s,
        end_s,
        nrows: meta.nrows,
        fields: meta
            .fields
            .iter()
            .map(|f| FieldJson {
                id: f.id.0,
                name: f.name.clone(),
                code: f.code.clone(),
                ra_rad: f.ra_rad,
                dec_rad: f.dec_rad,
                nrows: meta.field_nrows.get(f.id.idx()).copied().unwrap_or(0),
            })
            .collect(),
        spws: meta
            .spws
            .iter()
            .map(|s| SpwJson {
                id: s.id.0,
                name: s.name.clone(),
                nchan: s.nchan(),
                chan0_hz: s.chan_freq_hz.first().copied().unwrap_or(0.0),
                chan_width_hz: s.chan_width_hz.first().copied().unwrap_or(0.0),
                total_bw_hz: s.total_bw_hz,
                ref_freq_hz: s.ref_freq_hz,
                centre_hz: s.centre_hz(),
                frame: s.frame_name().into(),
                corrs: corrs_of_spw(s.id.0),
                bbc_no: s.bbc_no,
            })
            .collect(),
        scans: meta
            .scans
            .iter()
            .map(|s| ScanJson {
                scan: s.scan,
                field_id: s.field.0,
                field_name: meta
                    .fields
                    .get(s.field.idx())
                    .map(|f| f.name.clone())
                    .unwrap_or_default(),
                start_s: s.start_s,
                end_s: s.end_s,
                intents: s.intents.clone(),
                nrows: s.nrows,
                spw_ids: s.spws.iter().map(|x| x.0).collect(),
                intervals_s: s.intervals_s.clone(),
            })
            .collect(),
        antennas: meta
            .antennas
            .iter()
            .map(|a| AntennaJson {
                id: a.id.0,
                name: a.name.clone(),
                station: a.station.clone(),
                diameter_m: a.dish_diameter_m,
                position_m: a.position_m,
            })
            .collect(),
    }
}

fn fmt_ra(rad: f64) -> String {
    let h = rad.rem_euclid(std::f64::consts::TAU).to_degrees() / 15.0;
    let total = (h * 3600.0 * 1e6).round() / 1e6;
    let hh = (total / 3600.0).floor();
    let mm = ((total - hh * 3600.0) / 60.0).floor();
    let ss = total - hh * 3600.0 - mm * 60.0;
    format!("{:02}:{:02}:{:09.6}", hh as i64, mm as i64, ss)
}

fn fmt_dec(rad: f64) -> String {
    let d = rad.to_degrees();
    let sign = if d < 0.0 { '-' } else { '+' };
    let total = (d.abs() * 3600.0 * 1e5).round() / 1e5;
    let dd = (total / 3600.0).floor();
    let mm = ((total - dd * 3600.0) / 60.0).floor();
    let ss = total - dd * 3600.0 - mm * 60.0;
    format!("{sign}{:02}.{:02}.{:08.5}", dd as i64, mm as i64, ss)
}

/// Three significant digits, as listobs prints average intervals (10.08 -> 10.1).
fn sig3(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (2 - mag).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Longitude and geocentric latitude (rad) of an ITRF position, as listobs prints them.
pub fn itrf_to_lonlat(p: [f64; 3]) -> (f64, f64) {
    let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
    (p[1].atan2(p[0]), p[2].atan2(r))
}

fn fmt_dms(rad: f64, deg_width: usize) -> String {
    let d = rad.to_degrees();
    let sign = if d < 0.0 { '-' } else { '+' };
    let total = (d.abs() * 36_000.0).round() / 10.0;
    let dd = (total / 3600.0).floor();
    let mm = ((total - dd * 3600.0) / 60.0).floor();
    let ss = total - dd * 3600.0 - mm * 60.0;
    format!(
        "{sign}{:0w$}.{:02}.{:04.1}",
        dd as i64,
        mm as i64,
        ss,
        w = deg_width
    )
}

/// Text laid out like CASA's listobs.
pub fn render_text(meta: &MsMeta) -> String {
    let s = summary(meta);
    let rule = "=".repeat(80);
    let mut o = String::new();
    let _ = writeln!(o, "{rule}");
    let _ = writeln!(
        o,
        "           MeasurementSet Name:  {}      MS Version 2",
        s.ms
    );
    let _ = writeln!(o, "{rule}");
    let _ = writeln!(
        o,
        "   Observer: {}     Project: {}  ",
        s.observer, s.project
    );
    let _ = writeln!(o, "Observation: {}", s.telescope);
    let _ = writeln!(
        o,
        "Data records: {}       Total elapsed time = {:.2} seconds",
        s.nrows,
        s.end_s - s.start_s
    );
    let _ = writeln!(
        o,
        "   Observed from   {}   to   {} (UTC)",
        format_casa_date(s.start_s),
        format_casa_date(s.end_s)
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "   ObservationID = 0         ArrayID = 0");
    let _ = writeln!(
        o,
        "  Date        Timerange (UTC)          Scan  FldId FieldName             nRows     SpwIds   Average Interval(s)    ScanIntent"
    );
    let mut last_day = String::new();
    for sc in &s.scans {
        let full = format_casa_date(sc.start_s);
        let day = full.split('/').next().unwrap_or_default().to_string();
        let start = if day != last_day {
            full.clone()
        } else {
            format!("{:>11} {}", "", format_time_of_day(sc.start_s, 1))
        };
        last_day = day;
        let spws: Vec<String> = sc.spw_ids.iter().map(|x| x.to_string()).collect();
        let iv = sc.intervals_s.first().copied().unwrap_or(0.0);
        let ivs: Vec<String> = sc.spw_ids.iter().map(|_| sig3(iv)).collect();
        let _ = writeln!(
            o,
            "  {} - {} {:>5} {:>6} {:<20}{:>10}  [{}]  [{}] [{}]",
            start,
            format_time_of_day(sc.end_s, 1),
            sc.scan,
            sc.field_id,
            sc.field_name,
            sc.nrows,
            spws.join(","),
            ivs.join(", "),
            sc.intents.join(",")
        );
    }
    let _ = writeln!(o, "           (nRows = Total number of rows per scan) ");
    let _ = writeln!(o, "Fields: {}", s.fields.len());
    let _ = writeln!(
        o,
        "  ID   Code Name                RA               Decl           Epoch   SrcId      nRows"
    );
    for (f, mf) in s.fields.iter().zip(&meta.fields) {
        let _ = writeln!(
            o,
            "  {:<4} {:<4} {:<19} {:<15} {:<15} J2000   {:<10} {:>5}",
            f.id,
            f.code,
            f.name,
            fmt_ra(f.ra_rad),
            fmt_dec(f.dec_rad),
            mf.source_id,
            f.nrows
        );
    }
    let observed: Vec<u32> = crate::selection::selectable_spws(meta);
    let npol = meta.pols.len();
    let _ = writeln!(
        o,
        "Spectral Windows:  ({} unique spectral windows and {} unique polarization setups)",
        observed.len(),
        npol
    );
    let _ = writeln!(
        o,
        "  SpwID  Name                                       #Chans   Frame   Ch0(MHz)  ChanWid(kHz)  TotBW(kHz) CtrFreq(MHz) BBC Num  Corrs  "
    );
    for sp in s.spws.iter().filter(|sp| observed.contains(&sp.id)) {
        let _ = writeln!(
            o,
            "  {:<6} {:<42} {:>6}   {:<5} {:>11.3} {:>13.3} {:>11.1} {:>11.4} {:>8}  {}",
            sp.id,
            sp.name,
            sp.nchan,
            sp.frame,
            sp.chan0_hz / 1e6,
            sp.chan_width_hz / 1e3,
            sp.total_bw_hz / 1e3,
            sp.centre_hz / 1e6,
            sp.bbc_no.map(|b| b.to_string()).unwrap_or_default(),
            sp.corrs.join("  ")
        );
    }
    let _ = writeln!(o, "Sources: {}", meta.sources.len());
    let _ = writeln!(o, "  ID   Name                SpwId ");
    for src in &meta.sources {
        let _ = writeln!(
            o,
            "  {:<4} {:<19} {:<6}",
            src.source_id, src.name, src.spw_id
        );
    }
    let _ = writeln!(o, "Antennas: {}:", s.antennas.len());
    let _ = writeln!(
        o,
        "  ID   Name  Station   Diam.    Long.         Lat.                ITRF Geocentric coordinates (m)"
    );
    let _ = writeln!(o, "{:>85}{:>16}{:>16}", "x", "y", "z");
    for a in &s.antennas {
        let (lon, lat) = itrf_to_lonlat(a.position_m);
        let _ = writeln!(
            o,
            "  {:<4} {:<5} {:<8} {:>4.1}  m   {:<13} {:<13}      {:>15.6} {:>15.6} {:>15.6}",
            a.id,
            a.name,
            a.station,
            a.diameter_m,
            fmt_dms(lon, 3),
            fmt_dms(lat, 2),
            a.position_m[0],
            a.position_m[1],
            a.position_m[2]
        );
    }
    o
}
