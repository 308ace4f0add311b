#!/usr/bin/env bash
# First figures on a 2-core CPU for the datasets the GPU campaign (benchmarks/gpu_campaign.sh)
# covers in full: ETTm1, ETTm2, Weather, and Electricity when its file is in the data dir.
# The library's quick mode trains 3 epochs of 4096 sampled train windows at lr 1e-3
# (constant) instead of the reference 100 epochs at lr 1e-4; every test window is still scored.
#
#   bash benchmarks/reduced_cpu.sh                      # H=96, softmax vs MLR vs seasonal naive
#   HORIZONS=96,336 bash benchmarks/reduced_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TSATTN_DATA_DIR="${TSATTN_DATA_DIR:?set TSATTN_DATA_DIR to the data dir (the benchmark CSVs)}"
HORIZONS=${HORIZONS:-96}
OUT=${OUT:-benchmarks/results/patchtst_reduced_cpu}
MODELS=${MODELS:-patchtst:softmax,patchtst:mlr,seasonal_naive}

for dataset in ETTm1 ETTm2 weather electricity; do
  if [ "$dataset" = electricity ] && ! ls "$TSATTN_DATA_DIR"/electricity.csv* >/dev/null 2>&1; then
    echo "electricity: no file in $TSATTN_DATA_DIR, skipped"
    continue
  fi
  tsattn benchmark --dataset "$dataset" --quick --models "$MODELS" --horizons "$HORIZONS" \
    --seeds 0 --out "$OUT" --no-progress
done
