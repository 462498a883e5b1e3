//! gencal caltype='tsys' solutions and tsysspwmap against CASA 6.7's on the ALMA reference MS.

mod common;

use almacal_casa::read_meta;
use almacal_casa::table::RoTable;
use almacal_solve::prep::tsys::tsys_solutions;
use almacal_solve::prep::tsysspwmap::tsysspwmap;

#[test]
fn tsys_solutions_equal_casa_table() {
    let Some(ms) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let meta = read_meta(&ms).unwrap();
    let ours = tsys_solutions(&meta.syscal, meta.antennas.len(), &meta.scans, true);
    let mut casa = RoTable::open(&ms.parent().unwrap().join("casa/sim_small.tsys")).unwrap();
    assert_eq!(ours.len() as u64, casa.nrows());
    let time = casa.col::<f64>("TIME").unwrap();
    let spw = casa.col::<i32>("SPECTRAL_WINDOW_ID").unwrap();
    let ant = casa.col::<i32>("ANTENNA1").unwrap();
    let field = casa.col::<i32>("FIELD_ID").unwrap();
    let scan = casa.col::<i32>("SCAN_NUMBER").unwrap();
    for (r, s) in ours.iter().enumerate() {
        assert!((s.time_s - time[r]).abs() < 1e-3, "row {r} time");
        assert_eq!(
            (s.spw as i32, s.antenna as i32, s.field, s.scan),
            (spw[r], ant[r], field[r], scan[r]),
            "row {r}"
        );
        // FPARAM cells are [npol, nchan], pol fastest.
        let fp = casa.cell_vec::<f32>("FPARAM", r as u64).unwrap();
        let fl = casa.cell_vec::<bool>("FLAG", r as u64).unwrap();
        let npol = s.tsys_pc.len();
        for (p, chans) in s.tsys_pc.iter().enumerate() {
            for (c, v) in chans.iter().enumerate() {
                assert_eq!(*v, fp[c * npol + p], "row {r} pol {p} chan {c}");
                assert_eq!(s.flag_pc[p][c], fl[c * npol + p]);
            }
        }
    }
}

#[test]
fn tsysspwmap_equals_casa() {
    let Some(ms) = common::refdata("sim_small/sim_small.ms") else {
        return;
    };
    let meta = read_meta(&ms).unwrap();
    let want = common::json(&ms.parent().unwrap().join("casa/tsysspwmap.json"));
    let want: Vec<u32> = want["tsysmap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let tsys: Vec<(u32, Vec<f64>)> = [9u32, 11, 13, 15]
        .iter()
        .map(|&t| (t, meta.spws[t as usize].chan_freq_hz.clone()))
        .collect();
    assert_eq!(tsysspwmap(&meta.spws, &tsys, 0.0), want);
    // The tutorial's tsysChanTol=1 gives the same map here.
    assert_eq!(tsysspwmap(&meta.spws, &tsys, 1.0), want);
}
