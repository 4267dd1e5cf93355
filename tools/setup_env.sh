#!/usr/bin/env bash
# Create ./.venv with the verified stack and install mmpose_plus into it.
# Safe to run again: an existing environment is updated, not rebuilt.
#
#   bash tools/setup_env.sh
#
# torch is installed first and pinned: an unpinned torch requirement resolved
# on its own pulls a multi-GB CUDA build. Set TORCH_SPEC to choose another
# build (e.g. TORCH_SPEC="torch==2.4.1" on a GPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            PYTHON=$candidate
            break
        fi
    done
fi
if [ -z "$PYTHON" ]; then
    echo "error: no python3 found; install Python 3.11 first" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "[setup] creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
echo "[setup] installing ${TORCH_SPEC:-torch==2.13.0}"
"${PIP[@]}" "${TORCH_SPEC:-torch==2.13.0}"
echo "[setup] installing mmpose_plus with mmengine 0.10.7, mmcv-lite 2.0.1, mmaction2 1.1.0"
"${PIP[@]}" -e ".[tests]"
.venv/bin/python -c "import mmpose_plus, torch; print('[setup] ready: mmpose_plus', mmpose_plus.__version__, '| torch', torch.__version__)"
