#!/usr/bin/env bash
# Prove the offline install: build the bundle (connected), install it in a fresh
# folder with no package index reachable, run the quick demo, take a screenshot.
#
#     bash packaging/check_offline_install.sh [WORKDIR]
#
# Heavy (about 1 GB of wheels, a fresh environment, a two-minute demo): run it by
# hand, not in the test suite. WORKDIR (default: a new temporary folder) receives
# the fresh install, its workspace, demo.json and window.png.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=${1:-$(mktemp -d /tmp/enclave-offline-check.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

echo "== 1. Build the bundle (connected machine)"
START=$(date +%s)
bash packaging/build_bundle.sh --out packaging/dist | tee "$WORK/build.log"
BUILD_S=$(( $(date +%s) - START ))
ARCHIVE=$ROOT/$(ls -t packaging/dist/enclave-*.tar.gz | head -1)
BUNDLE_NAME=$(basename "$ARCHIVE" .tar.gz)

echo "== 2. Unpack it in a fresh folder"
rm -rf "$WORK/bundle" "$WORK/app" "$WORK/home"
mkdir -p "$WORK/bundle" "$WORK/home"
tar -C "$WORK/bundle" -xzf "$ARCHIVE"
BUNDLE=$WORK/bundle/$BUNDLE_NAME

# The walls: pip may use no index and no configuration (so no machine-wide
# find-links), and, where the kernel allows, everything runs in a network
# namespace with no interface but a downed loopback (`unshare -rn`).
if unshare -rn true 2>/dev/null; then
  WALL="unshare -rn (no network interfaces) + PIP_NO_INDEX=1, no pip configuration"
  JAIL=(unshare -rn)
  unshare -rn python3 - <<'EOF'
import socket
try:
    socket.create_connection(("192.0.2.1", 9), timeout=2)
    raise SystemExit("network reachable inside the namespace")
except OSError as exc:
    print(f"inside the namespace a connection fails at once: {exc}")
EOF
else
  WALL="PIP_NO_INDEX=1, no pip configuration (unshare -rn not allowed here)"
  JAIL=()
fi
CLEAN_ENV=(env -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_FIND_LINKS -u ENCLAVE_MODELS_DIR
           HOME="$WORK/home" ENCLAVE_HOME="$WORK/home/workspace" PIP_NO_INDEX=1
           PIP_CONFIG_FILE=/dev/null QT_QPA_PLATFORM=offscreen)

echo "== 3. An older workspace (previous schema, one project) for the install to upgrade"
"$ROOT/.venv/bin/python" - "$WORK/home/workspace/workspace.sqlite3" <<'EOF'
import sys
from pathlib import Path
from engine.store import open_store, projects, schema
path = Path(sys.argv[1])
db = open_store(path, migrate=False)
print("workspace schema", schema.migrate(db, path, target=schema.LATEST - 1), "with project",
      projects.create(db, "Ward A", "made before the upgrade"))
EOF

echo "== 4. Install offline ($WALL)"
START=$(date +%s)
"${JAIL[@]}" "${CLEAN_ENV[@]}" bash "$BUNDLE/install.sh" --prefix "$WORK/app" | tee "$WORK/install.log"
INSTALL_S=$(( $(date +%s) - START ))
ENCLAVE=$WORK/app/venv/bin/enclave
# From here on, run from the fresh folder: nothing may come from this checkout.
cd "$WORK"

UPGRADE=$("${JAIL[@]}" "${CLEAN_ENV[@]}" "$ENCLAVE" projects | grep -c "Ward A" || true)
BACKUP=$(ls "$WORK/home/workspace/" | grep bak-v || echo none)

echo "== 5. enclave demo --quick, offline"
START=$(date +%s)
"${JAIL[@]}" "${CLEAN_ENV[@]}" "$ENCLAVE" demo --quick --json > "$WORK/demo.json"
DEMO_S=$(( $(date +%s) - START ))

echo "== 6. The window, offscreen"
"${JAIL[@]}" "${CLEAN_ENV[@]}" "$WORK/app/venv/bin/python" -I -m gui.screenshot "$WORK/window.png"

echo
echo "== Result"
echo "bundle:        $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1) archive, $(du -sh "$BUNDLE" | cut -f1) unpacked, $(ls "$BUNDLE/wheels" | wc -l) wheels)"
echo "torch:         $(python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['torch']; print(t['version'], 'from', t['source'])" "$BUNDLE/BUILD-INFO.json")"
echo "build time:    ${BUILD_S} s (connected)"
echo "install time:  ${INSTALL_S} s (offline; environment, SmolLM2 conversion, launcher, doctor)"
echo "install size:  $(du -sh "$WORK/app" | cut -f1)"
echo "network wall:  $WALL"
echo "upgrade:       $(grep '^Workspace:' "$WORK/install.log"); project kept: $UPGRADE; backup: $BACKUP"
echo "launcher:      $(ls "$WORK/home/.local/share/applications/enclave.desktop")"
echo "demo:          ${DEMO_S} s — $(python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
print(f\"{s['records_valid']} valid records, {s['selected']} selected, {s['train_steps']} LoRA steps, \"
      f\"loss {s['loss_start']} -> {s['loss_end']}, perplexity base {s['ppl_base']} -> tuned \"
      f\"{s['ppl_tuned']} -> 8-bit {s['ppl_tuned_8bit']}\")" "$WORK/demo.json")"
echo "screenshot:    $WORK/window.png"
