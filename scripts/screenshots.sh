#!/usr/bin/env bash
# Regenerate every README screenshot from the real window on a real run:
# the demo pipeline in a scratch workspace, then evaluation, review in the window,
# DPO from those reviews and an 8-bit compression, then one PNG per tab.
# Usage: bash scripts/screenshots.sh [OUT_DIR]   (default docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
OUT=${1:-docs/screenshots}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
export ENCLAVE_HOME="$SCRATCH/workspace" QT_QPA_PLATFORM=offscreen
[ -n "${ENCLAVE_MODELS_DIR:-}" ] || export ENCLAVE_MODELS_DIR="$PWD/.venv/enclave-models"
PROJECT="Discharge notes"
E=.venv/bin/enclave

$E demo --project "$PROJECT"
RUN=$($E train-runs "$PROJECT" --json | .venv/bin/python -c \
  'import json,sys; print(max(r["run"] for r in json.load(sys.stdin)["runs"]))')
$E compress "$RUN" --method quantize-8bit
$E eval "$RUN" --compare base,compressed --limit 8 --max-new-tokens 32
.venv/bin/python scripts/screenshot_tour.py review --project "$PROJECT"
$E train "$PROJECT" --method dpo --from-run "$RUN" --max-steps 4
.venv/bin/python scripts/screenshot_tour.py shots --project "$PROJECT" --out "$OUT"
echo "screenshots written to $OUT"
