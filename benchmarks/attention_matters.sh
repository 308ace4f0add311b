#!/usr/bin/env bash
# Where does structured attention matter? (issue 15, part 6)
#
# On ETTh with lookback 336 and 42 patches, an ablation without any mixing across patches
# (sliding:window=0) scores within 0.8% of softmax, so no scoring function can move the error
# there. This run lengthens the token sequence: lookback 720, patch length 8 with stride 8 =
# 90 patches (each dataset's reference width), first the ablation (softmax vs no mixing), then
# softmax vs MLR vs BTT.
#
#   bash benchmarks/attention_matters.sh        # CPU first figure: ETTh1, --quick budget
#   DATASET=ETTm1 QUICK= MAX_EPOCHS=100 SEEDS=0,1,2 bash benchmarks/attention_matters.sh  # GPU
#
# (ETTm1 at d_model 128 with 90 patches did not finish one --quick cell in 25 minutes on the
# 2-core CPU, so the CPU figure uses ETTh1.)
#
# Results accumulate in $OUT (finished cells are skipped on rerun).
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET=${DATASET:-ETTh1}
INPUT=${INPUT:-720}
HORIZONS=${HORIZONS:-96}
SEEDS=${SEEDS:-0}
QUICK=${QUICK---quick}
MAX_EPOCHS=${MAX_EPOCHS:-3}
OUT=${OUT:-benchmarks/results/attention_matters}
P=patch_len=8:stride=8
MODELS=${MODELS:-"patchtst:softmax:$P,patchtst:sliding:window=0:$P,patchtst:mlr:$P,patchtst:btt:$P"}
export TSATTN_DATA_DIR="${TSATTN_DATA_DIR:?set TSATTN_DATA_DIR to the data dir (the benchmark CSVs)}"

tsattn benchmark --dataset "$DATASET" --models "$MODELS" --horizons "$HORIZONS" \
  --input-size "$INPUT" --max-epochs "$MAX_EPOCHS" --seeds "$SEEDS" --out "$OUT" $QUICK --no-progress
