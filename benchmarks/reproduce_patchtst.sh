#!/usr/bin/env bash
# Reproduce PatchTST/42 (lookback 336) on ETTh1 and ETTh2 with every attention variant, by the
# literature protocol (tsattn's own runner: every test window scored, reference
# hyperparameters: PatchTST's official scripts, as tsattn's literature presets hold them), with
# the epochs capped for 2-core CPUs.
#
#   bash benchmarks/reproduce_patchtst.sh                     # everything (hours on a CPU)
#   DATASETS=ETTh1 HORIZONS=96,336 bash benchmarks/reproduce_patchtst.sh
#   MAX_EPOCHS=100 SEEDS=0,1,2 bash benchmarks/reproduce_patchtst.sh   # the reference budget
#
# MLR configurations (head width d = 16/4 = 4): 2 levels ranks [2,2] (global half, local
# half: 2 blocks of 21 patches), 3 levels ranks [2,1,1] (the default: half the width global,
# a quarter each for halves and quarters of the 42 patches). Sliding window: 8 patches each
# side (~ +-64 time steps). The no-mixing ablation (each patch attends to itself only) is
# MODELS=patchtst:sliding:window=0. Results accumulate in $OUT (finished cells are skipped on rerun).
set -euo pipefail
cd "$(dirname "$0")/.."
DATASETS=${DATASETS:-ETTh1,ETTh2}
HORIZONS=${HORIZONS:-96,192,336,720}
MAX_EPOCHS=${MAX_EPOCHS:-3}
SEEDS=${SEEDS:-0}
OUT=${OUT:-benchmarks/results/patchtst_etth}
MODELS=${MODELS:-"patchtst:softmax,patchtst:mlr:ranks=[2,1,1],patchtst:mlr:ranks=[2,2],patchtst:btt,patchtst:sliding:window=8"}
export TSATTN_DATA_DIR="${TSATTN_DATA_DIR:?set TSATTN_DATA_DIR to the data dir (the benchmark CSVs)}"

for dataset in ${DATASETS//,/ }; do
  tsattn benchmark --dataset "$dataset" --models "$MODELS" --horizons "$HORIZONS" \
    --input-size 336 --max-epochs "$MAX_EPOCHS" --seeds "$SEEDS" --out "$OUT" --no-progress
done
