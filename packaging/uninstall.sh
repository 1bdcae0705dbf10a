#!/usr/bin/env bash
# Remove Enclave's program files and launcher. The workspace (projects, datasets,
# runs, converted models) is kept; the last lines say where it is.
#
#     bash uninstall.sh [--prefix DIR]
set -euo pipefail
PREFIX=${XDG_DATA_HOME:-$HOME/.local/share}/enclave-app
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "uninstall: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ ! -f "$PREFIX/.enclave-prefix" ]; then
  echo "uninstall: no Enclave installation at $PREFIX (use --prefix DIR)." >&2
  exit 1
fi
WORKSPACE=$("$PREFIX/venv/bin/python" -I -c "from engine import paths; print(paths.home())" 2>/dev/null || echo "~/.local/share/enclave")
rm -rf "$PREFIX/venv" "$PREFIX/venv.previous" "$PREFIX/.enclave-prefix"
rmdir "$PREFIX" 2>/dev/null || true
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
rm -f "$DATA/applications/enclave.desktop" "$HOME/Applications/Enclave.command"
rm -f "$DATA"/icons/hicolor/*/apps/enclave.png "$DATA/icons/hicolor/scalable/apps/enclave.svg"
if [ -L "$HOME/.local/bin/enclave" ] && [ "$(readlink "$HOME/.local/bin/enclave")" = "$PREFIX/venv/bin/enclave" ]; then
  rm -f "$HOME/.local/bin/enclave"
fi
echo "Enclave's program files are removed."
echo "The workspace is kept at $WORKSPACE; delete that folder to remove every project."
