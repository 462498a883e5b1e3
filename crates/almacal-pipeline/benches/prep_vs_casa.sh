#!/usr/bin/env bash
# applycal(tsys, antpos) + split of the science spws: almacal (one `prep` stage) vs CASA 6.7
# (applycal per field + mstransform) on the same simulated MS. Reports wall times, the
# ratio, and almacal's peak memory (/usr/bin/time -v).
#
#   bash crates/almacal-pipeline/benches/prep_vs_casa.sh [preset] [workdir]
#
# preset: tutorial (default) or bench-N. Needs the release binary (cargo build --release
# -p almacal) and .venv-casa (../shared/casa.md).
set -euo pipefail
PRESET=${1:-tutorial}
WORK=${2:-/tmp/almacal_prep_bench_$PRESET}
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$REPO/target/release/almacal
PY=$REPO/.venv-casa/bin/python
mkdir -p "$WORK"
cd "$WORK"
if [ ! -d sim.ms ]; then
  "$BIN" simulate --preset "$PRESET" --out sim.ms
fi
sed -e "s#@MS@#$WORK/sim.ms#" -e "s#@ANTPOS@#sim.antpos.json#" -e "s#@EDGES@#16:0~1#" \
    "$REPO/fixtures/recipes/prep/prep.toml" > prep.toml
rm -rf prep.almacal
# Gencal and initial flags first (CASA's timing below excludes them too).
"$BIN" run prep.toml --only initial_flags,tsys,antpos --no-progress > /dev/null
sync
/usr/bin/time -v "$BIN" run prep.toml --only prep --no-progress 2> time_almacal.txt > run_almacal.txt
A=$(grep -E '^prep ' run_almacal.txt | awk '{print $4}' | tr -d s)
MEM=$(grep 'Maximum resident' time_almacal.txt | awk '{print $6}')
C=$("$PY" "$REPO/crates/almacal-pipeline/benches/casa_prep_timing.py" "$WORK/sim.ms" "$WORK/prep.almacal/tsys.cal" "$WORK/prep.almacal/antpos.cal" "$WORK/prep.almacal/run.json" | tail -1)
echo "preset $PRESET: almacal applycal+split ${A} s (peak RSS ${MEM} kB); CASA applycal+mstransform ${C} s"
python3 -c "print('ratio CASA/almacal = %.2f' % ($C / $A))"
