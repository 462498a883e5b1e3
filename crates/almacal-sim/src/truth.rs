//! The truth file (`PATH.ms.truth.json`, same layout as the CASA-made reference
//! simulation's) and the antenna-position file in `getantposalma` format.

use crate::model::{
    field_role_note, flux_jy, t_line_k, FLUXES, FLUX_REF_HZ, JY_PER_K, LINES, LINE_BASEBAND,
    T_ATM_K,
};
use crate::schedule::{fields, ScanKind, FIELD_TARGET};
use crate::sim::Sim;
use crate::spws::{SpwRole, BB_CENTRES_HZ, SCIENCE_SPWS, TSYS_SPWS};
use crate::tables::{scan_elevation_deg, shadowing, SyscalTruth};
use almacal_core::time::format_casa_timestamp;
use serde_json::{json, Map, Value};

/// Description of the data model, written into the truth file.
pub const MODEL_DOC: &str = " (cross-correlation, antenna i = ANTENNA1, j = ANTENNA2, pol p):
  DATA_ij,p(nu,t) = G_i,p,s(t) conj(G_j,p,s(t)) B_i,p,s(nu) conj(B_j,p,s(nu))
                    * exp(-2 pi i nu/c (dX_j - dX_i).s_hat(t))          [antpos]
                    * S_field(nu) / JYPERK0
                    / sqrt(TsysOn_i,p(nu,t) TsysOn_j,p(nu,t))           [Tsys]
                  + complex noise (sigma per re/im = noise/sqrt(2 |dnu| tint))
  with G = sqrt(JYPERK0) g (g in truth.gains), dX = X_true - X_in_ANTENNA_table,
  s_hat(t) = truth.geometry.s_itrf, TsysOn = Tsys (+ T_line on the target in the line spw).
  Autocorrelations (real):
  AC_i,p(nu,t) = |B_i,p(nu)|^2 TsysOn_i,p(nu,t) / <Tsys_i,p(t)>_nu (+ noise)
";

fn r3(v: [f64; 3]) -> Value {
    json!(v)
}

/// Build the truth document.
pub fn truth(sim: &Sim, ms_name: &str, nrows: u64, syscal: &[SyscalTruth]) -> Value {
    let cfg = &sim.cfg;
    let m = &sim.model;
    let nant = sim.antennas.len();
    let sci = sim.schedule.science_integrations();
    let times: Vec<f64> = sci.iter().map(|(_, i)| i.time_s).collect();

    // Gains at every science integration, [ant][pol][t].
    let mut gains = Map::new();
    for (bb, &spw) in SCIENCE_SPWS.iter().enumerate() {
        let per = |f: &dyn Fn(usize, usize, usize) -> f64| -> Value {
            json!((0..nant)
                .map(|a| (0..2)
                    .map(|p| (0..sci.len()).map(|t| f(a, p, t)).collect::<Vec<_>>())
                    .collect::<Vec<_>>())
                .collect::<Vec<_>>())
        };
        let amp = per(&|a, p, t| m.gain_amp(a, p, bb, sci[t].1.time_s) / JY_PER_K.sqrt());
        let ph = per(&|a, p, t| m.gain_phase_deg(a, p, bb, sci[t].1.index));
        gains.insert(spw.to_string(), json!({"amp": amp, "phase_deg": ph}));
    }

    // Geometry of every science integration.
    let geometry: Vec<Value> = sci
        .iter()
        .map(|(k, i)| {
            let scan = &sim.schedule.scans[*k];
            let (ra, dec) = sim.field_dir(scan.field);
            let ax = crate::geometry::uvw_axes_itrf(ra, dec, i.time_s);
            json!({
                "time": i.time_s,
                "scan": scan.number,
                "field": scan.field,
                "elevation_deg": crate::geometry::elevation_rad(&ax[2]).to_degrees(),
                "s_itrf": r3(ax[2]),
            })
        })
        .collect();

    let mut bandpass = Map::new();
    for (bb, &spw) in SCIENCE_SPWS.iter().enumerate() {
        let b = &m.bandpass[bb];
        let part = |f: fn(&num_complex::Complex64) -> f64| -> Value {
            json!(b
                .iter()
                .map(|ap| ap
                    .iter()
                    .map(|v| v.iter().map(f).collect::<Vec<_>>())
                    .collect::<Vec<_>>())
                .collect::<Vec<_>>())
        };
        bandpass.insert(
            spw.to_string(),
            json!({"re": part(|c| c.re), "im": part(|c| c.im)}),
        );
    }

    let mut per_spw_flux = Map::new();
    for (bb, &spw) in SCIENCE_SPWS.iter().enumerate() {
        let mut e = Map::new();
        e.insert("freq_centre_hz".into(), json!(BB_CENTRES_HZ[bb]));
        for (k, f) in fields().iter().enumerate() {
            e.insert(f.0.into(), json!(flux_jy(k, BB_CENTRES_HZ[bb])));
        }
        per_spw_flux.insert(spw.to_string(), Value::Object(e));
    }

    let spws: Vec<Value> = sim
        .spws
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "id": i, "name": s.spw.name, "role": s.role.as_str(), "nchan": s.spw.nchan(),
                "bbc_no": s.spw.bbc_no, "centre_hz": s.spw.centre_hz(),
                "total_bw_hz": s.spw.total_bw_hz, "chan_width_hz": s.spw.chan_width_hz[0],
                "ddid": sim.ddid_of_spw[i],
            })
        })
        .collect();

    let scans: Vec<Value> = sim
        .schedule
        .scans
        .iter()
        .map(|s| {
            json!({
                "scan": s.number, "field": s.field, "kind": s.kind.as_str(),
                "intents": s.intents(), "t_begin": s.t_begin(), "t_end": s.t_end(),
                "nint": s.ints.len(), "spws": s.spws,
                "elevation_deg_mid": scan_elevation_deg(sim, s),
            })
        })
        .collect();

    let online: Vec<Value> = sim
        .online_flags
        .iter()
        .map(|f| json!({"command": f.command(), "reason": f.reason, "antenna": f.antenna, "t_begin": f.t_begin, "t_end": f.t_end}))
        .collect();

    let fault = if sim.cfg.fault && sim.fault_antenna.is_some() {
        let scans: Vec<String> = sim
            .schedule
            .fault_scans
            .iter()
            .map(|s| s.to_string())
            .collect();
        json!({
            "antenna": crate::model::FAULT_ANTENNA, "spw": crate::model::FAULT_SPW,
            "scans": sim.schedule.fault_scans,
            "corruption": "every cross-correlation to the antenna multiplied by U(0,6) exp(i U(-pi,pi)) per row/channel/pol",
            "suggested_flagdata": format!("flagdata(vis='{ms_name}', mode='manual', antenna='{}', spw='{}', scan='{}')",
                crate::model::FAULT_ANTENNA, crate::model::FAULT_SPW, scans.join(",")),
        })
    } else {
        Value::Null
    };

    let syscal_json: Vec<Value> = syscal
        .iter()
        .map(|s| json!({"scan": s.scan, "field": s.field, "time": s.time_s, "interval": s.interval_s, "spw": s.spw, "elevation_deg": s.elevation_deg, "tsys": s.tsys}))
        .collect();
    let trx = |f: fn(&crate::model::Trx) -> f64| -> Value {
        json!(m
            .trx
            .iter()
            .map(|t| [f(&t[0]), f(&t[1])])
            .collect::<Vec<_>>())
    };

    // Renormalisation: line spw, target scans, per-channel ideal factor averaged per scan.
    let line_spw = SCIENCE_SPWS[LINE_BASEBAND] as usize;
    let line_freqs = &sim.spws[line_spw].spw.chan_freq_hz;
    let t_line: Vec<f64> = line_freqs
        .iter()
        .map(|&nu| {
            if sim.cfg.target_line {
                t_line_k(nu)
            } else {
                0.0
            }
        })
        .collect();
    let per_scan: Vec<Value> = sim
        .schedule
        .scans
        .iter()
        .filter(|s| s.kind == ScanKind::Target)
        .map(|s| {
            let mut fac = vec![[vec![0.0; t_line.len()], vec![0.0; t_line.len()]]; nant];
            for i in &s.ints {
                let am = crate::model::airmass(sim.elevation_deg(FIELD_TARGET, i.time_s).to_radians());
                for (a, fa) in fac.iter_mut().enumerate() {
                    for (p, fp) in fa.iter_mut().enumerate() {
                        for (c, &nu) in line_freqs.iter().enumerate() {
                            let t = m.tsys_k(a, p, nu, am);
                            fp[c] += (t + t_line[c]) / t / s.ints.len() as f64;
                        }
                    }
                }
            }
            json!({"scan": s.number, "times": s.ints.iter().map(|i| i.time_s).collect::<Vec<_>>(), "factor_mean_over_scan": fac})
        })
        .collect();

    let shadow: Vec<Value> = shadowing(sim)
        .into_iter()
        .filter(|(_, c)| c.iter().any(|&x| x > 0))
        .map(|(scan, c)| json!({"scan": scan, "shadowed_integrations": c}))
        .collect();

    let mut corruptions = vec![
        "antpos",
        "bandpass",
        "edges",
        "gains",
        "line",
        "tsys",
        "online_flags",
    ];
    if fault.is_object() {
        corruptions.push("fault");
    }

    let degradations: Vec<Value> = cfg.degrades.iter().map(|d| d.to_json()).collect();
    let mut truth = json!({
        "generator": "almacal simulate",
        "preset": cfg.preset,
        "params": {
            "seed": cfg.seed, "nchan": cfg.nchan, "tint": cfg.tint_s, "nchan_tsys": cfg.nchan_tsys,
            "antennas": sim.antennas.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
            "lst_start_h": cfg.lst_start_h, "date": "2016-04-15", "cycles": cfg.cycles,
            "flux0": [FLUXES[0].0, FLUXES[0].1, FLUX_REF_HZ], "flux1": [FLUXES[1].0, FLUXES[1].1],
            "flux2": [FLUXES[2].0, FLUXES[2].1], "line_spw_index": LINE_BASEBAND, "noise_scale": cfg.noise,
        },
        "fault_injected": fault.is_object(),
        "corruptions": corruptions,
        "noise": cfg.noise > 0.0,
        "ms": ms_name,
        "n_rows": nrows,
        "time_start_mjd_s": sim.schedule.start_s(),
        "time_end_mjd_s": sim.schedule.end_s(),
        "time_start_utc": format_casa_timestamp(sim.schedule.start_s()),
        "jy_per_k_nominal": JY_PER_K,
        "model_doc": MODEL_DOC,
        "antennas": sim.antennas.iter().enumerate().map(|(k, a)| json!({
            "id": k, "name": a.name, "station": a.station, "itrf_true": r3(a.itrf_true),
            "itrf_in_ms": r3(a.itrf_in_ms), "position_error_m": r3(a.error_m)})).collect::<Vec<_>>(),
        "refant_suggested": sim.antennas.last().map(|a| a.name.clone()),
        "fields": fields().iter().enumerate().map(|(k, f)| json!({"id": k, "name": f.0, "role": f.1, "ra_rad": f.2, "dec_rad": f.3})).collect::<Vec<_>>(),
        "fluxes": (0..3).map(|k| (format!("field{k}"), json!({"name": fields()[k].0, "S0_jy": FLUXES[k].0, "alpha": FLUXES[k].1, "reffreq_hz": FLUX_REF_HZ, "note": field_role_note(k)}))).collect::<Map<_, _>>(),
        "per_spw_flux_jy": per_spw_flux,
        "spectral_windows": spws,
        "science_spws": SCIENCE_SPWS,
        "tsys_spws": TSYS_SPWS,
        "chavg_spws": sim.spws.iter().enumerate().filter(|(_, s)| s.role == SpwRole::ChAvg).map(|(i, _)| i).collect::<Vec<_>>(),
        "expected_tsysspwmap_note": "science spw k maps to the tsys spw with the same BBC_NO",
        "edge_channels": {"bad_per_side": m.bad_edge, "recommended_flag_per_side": (cfg.nchan / 16).max(1),
            "note": "first/last bad_per_side channels have a 0.25x amplitude and random phase (included in bandpass truth)"},
        "scans": scans,
        "online_flags": online,
        "fault": fault,
        "gains": {
            "doc": "complex gain per science integration in CASA convention V_obs = g_i conj(g_j) V_true after Tsys correction (Jy units): g = G/sqrt(JYPERK0). Arrays are [ant][pol][time]; times listed in \"times\" (MJD s, all science-scan integrations in order). Phases in degrees are absolute (not referenced to any antenna).",
            "times": times,
            "per_spw": gains,
            "components": {
                "path_length_model": "phase = ph0[ant][pol][sci] + 360 nu_centre/c * dL[ant](t)",
                "ph0_deg": m.ph0_deg, "efficiency": m.efficiency, "amp_spw": m.amp_spw,
            },
        },
        "geometry": {"doc": "per science integration: J2000 phase-centre direction in ITRF (s_hat) and elevation; airmass = 1/sin(max(el, 5 deg))", "per_integration": geometry},
        "bandpass": {"doc": "B[ant][pol][chan] complex (re, im), channel order as in the MS (CHAN_FREQ order)", "per_spw": bandpass},
        "tsys": {
            "doc": "SYSCAL contents: tsys[ant][pol][chan] per (atm scan, tsys spw); the data use the continuous model Tsys(nu, elevation(t)) evaluated at the science channels",
            "syscal": syscal_json,
            "model": {
                "trx0": trx(|t| t.t0_k), "trx_slope_k_per_ghz": trx(|t| t.slope_k_per_ghz),
                "trx_ripple_k": trx(|t| t.ripple_k), "trx_ripple_period_ghz": trx(|t| t.ripple_period_ghz),
                "trx_ripple_phase": trx(|t| t.ripple_phase), "t_atm": T_ATM_K,
                "formula": "Tsys = (Trx(nu) + Tatm(1-exp(-tau A)) + 2.7) exp(tau A), tau(nu)=0.055+0.45*25/((nu_GHz-325.153)^2+25)+0.0008(nu_GHz-340), Trx(nu) = trx0 + slope*(nu_GHz-340) + ripple*sin(2 pi (nu_GHz-340)/period + phase), A = 1/sin(max(el, 5 deg))",
            },
        },
        "renormalization": {
            "spw": line_spw,
            "lines": LINES.iter().map(|l| json!({"name": l.0, "centre_ghz": l.1, "peak_k": l.2, "fwhm_mhz": l.3})).collect::<Vec<_>>(),
            "t_line_k": t_line,
            "doc": "target (field 2) cross-correlations in this spw are divided by sqrt((Tsys_i+T_line)(Tsys_j+T_line)) instead of sqrt(Tsys_i Tsys_j); the ideal renormalization factor for antenna i is (Tsys_i+T_line)/Tsys_i (per baseline: sqrt of the product). per_scan gives the factor [ant][pol][chan] averaged over each target scan. Autocorrelations of the target show the line.",
            "per_scan": per_scan,
        },
        "shadowing": {"doc": "geometric shadowing (true positions, dish 7 m): integrations per antenna in which another antenna blocks it; the data are not attenuated", "per_scan": shadow},
    });
    // Outside the macro: `json!` is at its recursion limit.
    truth["degradations"] = Value::Array(degradations);
    truth
}

/// The true antenna positions in CASA's `getantposalma` JSON format.
pub fn antpos(sim: &Sim, file_name: &str) -> Value {
    let data: Map<String, Value> = sim
        .antennas
        .iter()
        .map(|a| (a.name.clone(), r3(a.itrf_true)))
        .collect();
    json!({
        "data": data,
        "metadata": {
            "caltype": "ALMA antenna positions",
            "description": "ALMA ITRF antenna positions in meters",
            "product_code": "antposalma",
            "outfile": file_name,
            "hosts": ["simulated"],
            "asdm": format!("uid://A002/Xsim/X{}", sim.cfg.seed),
            "timestamp": "simulated",
        }
    })
}
