#!/usr/bin/env bash
# The main job on the built-in tiny dataset: generate it, train the tiny
# RGBPoseConv3D config, test the resulting checkpoint and print top-1.
#
#   bash tools/setup_env.sh && bash tools/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CONFIG=configs/tiny/rgbposeconv3d_tiny_tinyntu.py
WORK=${WORK_DIR:-work_dirs/quickstart}

echo "[quickstart] 1/3 generating the tiny dataset in data/tiny_ntu"
"$PY" tools/data/generate_tiny_dataset.py --out-dir data/tiny_ntu
echo "[quickstart] 2/3 training $CONFIG"
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK"
CKPT=$(cat "$WORK/last_checkpoint")
echo "[quickstart] 3/3 testing $CKPT"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/test"
