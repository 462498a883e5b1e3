# Developer shortcuts (optional: every recipe is a plain cargo command).

# Build and run the bundled example.
example:
    cargo run --release -p almacal -- listobs fixtures/ngc5921/ngc5921.ms

# The whole test suite (what CI runs).
test:
    cargo test --workspace

# Formatting, lints and tests, as CI runs them.
ci:
    bash .ci/run

# Benchmarks (release mode).
bench:
    cargo run --release -p almacal-casa --example read_bench -- fixtures/ngc5921/ngc5921.ms

# applycal(tsys, antpos) + split: almacal vs CASA 6.7 on the `tutorial` preset (needs .venv-casa).
bench-prep:
    cargo build --release -p almacal && bash crates/almacal-pipeline/benches/prep_vs_casa.sh tutorial

# The whole tutorial recipe: almacal (first run, no-op rerun, rerun after one flag) vs CASA 6.7 on the `tutorial` preset (needs .venv-casa).
bench-tutorial:
    cargo build --release -p almacal && bash benches/tutorial_vs_casa.sh

# Plot overhead: the tutorial recipe with and without `plots = [...]` (release mode; fails at >= 10 %).
bench-plots:
    cargo build --release -p almacal && bash benches/plots_overhead.sh

# Property/fuzz tests (crates/*/tests/fuzz_*.rs), each target for `secs` seconds with fresh
# seeds (release mode); prints executions per target and fails on the first crash, with its
# seed and shrunk input. `cargo test` alone runs the same properties with a bounded case count.
fuzz secs="600" profile="release":
    cargo test --profile {{profile}} --no-run -p almacal-core -p almacal-recipe -p almacal-casa -p almacal-solve --test 'fuzz_*'
    ALMACAL_FUZZ_SECS={{secs}} cargo test --profile {{profile}} -p almacal-recipe --test fuzz_recipe fuzz_ -- --nocapture --test-threads 1
    ALMACAL_FUZZ_SECS={{secs}} cargo test --profile {{profile}} -p almacal-recipe --test fuzz_flagfile -- --nocapture
    ALMACAL_FUZZ_SECS={{secs}} cargo test --profile {{profile}} -p almacal-core --test fuzz_cmdline -- --nocapture
    ALMACAL_FUZZ_SECS={{secs}} cargo test --profile {{profile}} -p almacal-casa --test fuzz_selection -- --nocapture
    ALMACAL_FUZZ_SECS={{secs}} cargo test --profile {{profile}} -p almacal-casa --test fuzz_caltable -- --nocapture
    ALMACAL_FUZZ_SECS={{secs}} cargo test --profile {{profile}} -p almacal-solve --test fuzz_antpos -- --nocapture
