#!/usr/bin/env bash
# Install Enclave from this offline bundle. Uses nothing but the bundle: no
# package index, no download. Run it again with a newer bundle to upgrade: the
# workspace is kept and upgraded (a copy of it is kept as workspace.sqlite3.bak-v<N>).
#
#     bash install.sh [--prefix DIR] [--no-launcher]
#
# DIR (default ~/.local/share/enclave-app) receives the Python environment.
# The workspace stays where Enclave keeps it (~/.local/share/enclave, or ENCLAVE_HOME).
# Needs Python 3.11 (PYTHON=/path/to/python3.11 to choose one).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${XDG_DATA_HOME:-$HOME/.local/share}/enclave-app
LAUNCHER=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift ;;
    --no-launcher) LAUNCHER=0 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "install: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
VENV=$PREFIX/venv

# Find Python 3.11: the bundle's wheels are built for it.
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY=$(command -v "$candidate"); break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "install: Python 3.11 is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

# 1. The bundle is complete and unaltered.
"$PY" "$HERE/lockfile.py" verify "$HERE"

# 2. A fresh environment from the bundle alone. pip reads no configuration file
#    and may look nowhere but the bundle's wheels.
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CONSTRAINT 2>/dev/null || true
OLD=""
if [ -d "$VENV" ]; then
  OLD=$PREFIX/venv.previous
  rm -rf "$OLD"
  mv "$VENV" "$OLD"
  echo "Upgrading: the previous installation is kept at $OLD until this one passes."
fi
restore() {
  echo "install: failed; the previous installation is left in place." >&2
  rm -rf "$VENV"
  [ -n "$OLD" ] && mv "$OLD" "$VENV"
}
trap restore ERR
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --no-index --find-links "$HERE/wheels" --require-hashes)
"${PIP[@]}" -r "$HERE/requirements.lock"
"${PIP[@]}" --no-deps -r "$HERE/models.lock"
echo "Installed: $("$VENV/bin/enclave" --version) in $VENV"

# (python -I: the installed Enclave only, never a folder that happens to be the
#  current directory.)
# 3. The workspace: open it once so that an older one is upgraded now (with its backup).
"$VENV/bin/python" -I - <<'EOF'
import sqlite3
from engine import paths
from engine.store import open_store, schema
path = paths.workspace_db()
before = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] if path.exists() else None
db = open_store(path)
after = schema.version(db)
if before is None:
    print(f"Workspace: created {path} (schema {after})")
elif before < after:
    print(f"Workspace: upgraded {path} from schema {before} to {after}; "
          f"the previous file is kept as {path.name}.bak-v{before}")
else:
    print(f"Workspace: {path} kept (schema {after})")
EOF

# 4. The bundled SmolLM2 is converted once into the model cache.
"$VENV/bin/python" -I -c "from engine.models.bundled import smollm2_folder; print('SmolLM2 ready:', smollm2_folder())"
trap - ERR
rm -rf "$OLD"

# 5. A launcher, so that Enclave starts like any other desktop program.
if [ $LAUNCHER = 1 ]; then
  case "$(uname -s)" in
    Linux)
      APPS=${XDG_DATA_HOME:-$HOME/.local/share}/applications
      ICONS=${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor
      mkdir -p "$APPS" "$HOME/.local/bin"
      ICON_DIR=$("$VENV/bin/python" -I -c "import importlib.resources as r; print(r.files('enclave_resources') / 'icons')")
      for size in 16 32 48 64 128 256; do
        mkdir -p "$ICONS/${size}x${size}/apps"
        cp "$ICON_DIR/enclave-$size.png" "$ICONS/${size}x${size}/apps/enclave.png"
      done
      mkdir -p "$ICONS/scalable/apps" && cp "$ICON_DIR/enclave.svg" "$ICONS/scalable/apps/enclave.svg"
      sed "s|@ENCLAVE@|$VENV/bin/enclave|g" "$HERE/launchers/enclave.desktop.in" > "$APPS/enclave.desktop"
      chmod 644 "$APPS/enclave.desktop"
      ln -sfn "$VENV/bin/enclave" "$HOME/.local/bin/enclave"
      echo "Launcher: $APPS/enclave.desktop (menu entry 'Enclave'); command: $HOME/.local/bin/enclave"
      ;;
    Darwin)
      mkdir -p "$HOME/Applications"
      sed "s|@ENCLAVE@|$VENV/bin/enclave|g" "$HERE/launchers/enclave.command.in" > "$HOME/Applications/Enclave.command"
      chmod 755 "$HOME/Applications/Enclave.command"
      echo "Launcher: $HOME/Applications/Enclave.command"
      ;;
    *) echo "Launcher: none for $(uname -s); start Enclave with $VENV/bin/enclave gui" ;;
  esac
fi
echo "$PREFIX" > "$PREFIX/.enclave-prefix"

# 6. The self-check (exit code 0 when all is well).
echo
"$VENV/bin/enclave" doctor
