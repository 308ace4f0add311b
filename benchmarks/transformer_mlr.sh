#!/usr/bin/env bash
# The MLR paper's own experiment: a vanilla Transformer encoder on ETTh1, lookback 96, softmax
# vs MLR with 2 and 4 levels, horizons 96/192/336 (report: relative MAE improvement).
#
#   bash benchmarks/transformer_mlr.sh                 # narrow CPU size: d_model 128, head width 16
#   SIZE=paper DEVICE=cuda bash benchmarks/transformer_mlr.sh   # the paper's d_model 512, width 64
#
# MLR ranks split each head's width as the paper does: 2 levels = half global, half within
# each half of the 96 steps; 4 levels = a quarter at each level (blocks of 96, 48, 24, 12).
set -euo pipefail
cd "$(dirname "$0")/.."
export TSATTN_DATA_DIR="${TSATTN_DATA_DIR:?set TSATTN_DATA_DIR to the data dir (the benchmark CSVs)}"
SIZE=${SIZE:-narrow}
DEVICE=${DEVICE:-auto}
HORIZONS=${HORIZONS:-96,192,336}
SEEDS=${SEEDS:-0}
MAX_EPOCHS=${MAX_EPOCHS:-10}
if [ "$SIZE" = paper ]; then
  NET="d_model=512:n_heads=8:d_ff=2048:n_layers=2:dropout=0.1:patience=3"
  TWO="[32,32]"; FOUR="[16,16,16,16]"
  OUT=${OUT:-benchmarks/results/transformer_etth1_paper}
else
  NET="d_model=128:n_heads=8:d_ff=256:n_layers=2:dropout=0.1:patience=3"
  TWO="[8,8]"; FOUR="[4,4,4,4]"
  OUT=${OUT:-benchmarks/results/transformer_etth1_cpu}
fi
MODELS="transformer:softmax:$NET,transformer:mlr:ranks=$TWO:$NET,transformer:mlr:ranks=$FOUR:$NET"
for horizon in ${HORIZONS//,/ }; do
  tsattn benchmark --dataset ETTh1 --input-size 96 --max-epochs "$MAX_EPOCHS" --device "$DEVICE" \
    --models "$MODELS" --horizons "$horizon" --seeds "$SEEDS" --out "$OUT" --no-progress
done
