//! Builds almacal's own C++ bulk-read glue (cpp/bulk.cc) against the casacore that
//! rubbl_casatables_impl compiles (its headers come through `DEP_CASA_INCLUDE`).

fn main() {
    let include = std::env::var_os("DEP_CASA_INCLUDE")
        .expect("rubbl_casatables_impl must be a direct dependency (DEP_CASA_INCLUDE)");
    cc::Build::new()
        .cpp(true)
        .flag_if_supported("-std=c++11")
        .flag_if_supported("-Wno-deprecated-declarations")
        .define("casacore", "rubbl_casacore")
        .define("USE_THREADS", "1")
        .include(include)
        .file("cpp/bulk.cc")
        .compile("almacal_bulk_glue");
    println!("cargo:rerun-if-changed=cpp/bulk.cc");
    println!("cargo:rustc-link-lib=static=casatables_impl");
}
