//! Development probe: imports every script in a folder and prints the summaries.
fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/scripts".into());
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<_> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    paths.sort();
    for p in paths {
        match almacal_import::import_file(&p) {
            Ok(imp) => print!("{}", almacal_import::emit::summary(&imp)),
            Err(e) => println!("ERROR {e}"),
        }
    }
}
