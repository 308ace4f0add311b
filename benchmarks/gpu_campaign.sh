#!/usr/bin/env bash
# The GPU half of the reproduction campaign (issue: "Reproduce the papers"), for one short call on
# a CUDA machine: PatchTST/42 with softmax and MLR on ETTm1, ETTm2 and Weather (reference
# hyperparameters of PatchTST's official scripts: d_model 128, 16 heads, d_ff 256), every test window
# scored, results appended to benchmarks/results/patchtst_gpu (finished cells are skipped, so the
# script can be re-run to continue), then the vanilla-Transformer experiment of the paper
# (ETTh1, lookback 96, d_model 512, 8 heads, 2 layers; softmax vs MLR with 2 and 4 levels): its
# encoder-only proxy, then the encoder-decoder model the paper ran (benchmarks/vanilla_transformer.py).
#
#   MAX_EPOCHS=10 bash benchmarks/gpu_campaign.sh        # default cap: 10 epochs per cell
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e . || python -m pip install -q --no-deps -e .
export TSATTN_DATA_DIR="${TSATTN_DATA_DIR:?set TSATTN_DATA_DIR to the data dir (the benchmark CSVs)}"
MAX_EPOCHS=${MAX_EPOCHS:-10}
HORIZONS=${HORIZONS:-96,192,336,720}
OUT=${OUT:-benchmarks/results/patchtst_gpu}
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"

for dataset in ETTm1 ETTm2 weather; do
  tsattn benchmark --dataset "$dataset" --device cuda --max-epochs "$MAX_EPOCHS" \
    --models "patchtst:softmax:bf16=true,patchtst:mlr:ranks=[4,2,2]:bf16=true" \
    --horizons "$HORIZONS" --out "$OUT" --no-progress
done

# the paper's Transformer size: d_model 512, head width 64, MLR [32,32] and [16,16,16,16]
SIZE=paper DEVICE=cuda MAX_EPOCHS="$MAX_EPOCHS" bash benchmarks/transformer_mlr.sh

# The paper's Transformer experiment as it ran it: Time-Series-Library's encoder-decoder
# Transformer at full size (d_model 512, 8 heads, d_ff 2048, e_layers 2, d_layers 1, dropout
# 0.1), seq_len 96, label_len 48, H 96/192/336, batch 32, lr 1e-4, type1, patience 3, every
# training/validation/test window; softmax vs MLR (paper recipe, 2 and 4 levels, encoder only
# and encoder+decoder), 3 seeds. Resumable; its own CSV and BENCHMARKS.md section.
python benchmarks/vanilla_transformer.py --device cuda --d-model 512 --n-heads 8 --d-ff 2048 \
  --max-epochs "$MAX_EPOCHS" --seeds 0 1 2 \
  --out benchmarks/results/vanilla_transformer/runs_gpu.csv --section vanilla_transformer_gpu

# Where attention matters (issue 15 part 6): 90 patches (lookback 720, patch 8 stride 8) on
# ETTm1 and Weather, no-mixing ablation then softmax vs MLR vs BTT, 3 seeds, full budget.
for dataset in ETTm1 weather; do
  DATASET=$dataset QUICK= MAX_EPOCHS="$MAX_EPOCHS" SEEDS=0,1,2 HORIZONS=96,336 \
    OUT=benchmarks/results/attention_matters_gpu bash benchmarks/attention_matters.sh
done
# ... and where it matters by construction: series with their own period (synthetic), at the
# reference width and a 20x longer budget than the CPU figure.
python benchmarks/attention_matters_synthetic.py --device cuda --d-model 128 --steps 30000 \
  --train 1024 --seeds 3 --tag gpu

# The ETTh grid with 3 seeds in every cell (the CPU campaign has 3 seeds only in its headline
# cells): every attention variant, every horizon (resumable like the rest; it is the longest
# part, so it runs last).
OUT=benchmarks/results/patchtst_etth_gpu MAX_EPOCHS="$MAX_EPOCHS" SEEDS=0,1,2 \
  bash benchmarks/reproduce_patchtst.sh
