#!/usr/bin/env bash
# Usage: bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# Works with GPUs (nccl) and on CPU-only machines (gloo).
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
PYTHON=${PYTHON:-python}
PORT=${PORT:-29500}
exec "$PYTHON" -m torch.distributed.run --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="$PORT" --nproc_per_node="$NPROC" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "$@"
