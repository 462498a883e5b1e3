#!/usr/bin/env bash
# Run .ci/run as on a fresh machine: a new clone beside ../shared, an empty private /tmp
# (tmpfs in a private mount namespace) and an empty CARGO_HOME of its own. Needs root
# (unshare -m, mount). Usage: testing/fresh-machine-ci.sh [COMMIT]  (default HEAD)
# Prints the elapsed time; the clone and its cargo home are left in $WORK for inspection.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:-HEAD}"
WORK="${WORK:-$(cd "$repo/.." && pwd)}"          # the clone must sit beside ../shared
clone="$WORK/fresh-clone"; home="$WORK/fresh-cargo-home"
rm -rf "$clone" "$home"
git clone -q "$repo" "$clone"
git -C "$clone" checkout -q "$commit"
mkdir -p "$home"
exec unshare -m --propagation private bash -c '
  set -euo pipefail
  mount -t tmpfs -o size=8g tmpfs /tmp
  export CARGO_HOME="'"$home"'" CI=true
  cd "'"$clone"'"
  echo "tmp: $(ls -A /tmp | wc -l) entries; CARGO_HOME: $(ls -A "$CARGO_HOME" | wc -l) entries"
  start=$(date +%s)
  rc=0; bash .ci/run || rc=$?
  echo "rc=$rc elapsed=$(( $(date +%s) - start ))s"
  exit $rc'
