#!/usr/bin/env bash
# One prepared check for a CUDA machine, run from the repository root:
#
#   bash benchmarks/gpu_check.sh            # install, GPU tests, ETTm1 PatchTST per attention
#   bash benchmarks/gpu_check.sh --dry-run  # CPU only: no install, CUDA hidden, a few steps
#
# 1. installs the project (`pip install -e .` over the torch already there; torch itself only
#    when missing; offline fallbacks: --no-deps, then PYTHONPATH);
# 2. runs the tests marked gpu (`python -m pytest -m gpu -q`);
# 3. trains the reference ETTm1 PatchTST (d_model 128, 16 heads, d_ff 256, batch 128) with
#    bf16 autocast and torch.compile, one warm-up + one timed epoch of 8192 windows per
#    attention, and prints windows/s and peak GPU memory (benchmarks/gpu_check.py).
# Data: $TSATTN_DATA_DIR (default: the data dir beside the checkout); random data of ETTm1's
# shape without it.
# Each step has a time limit (GPU_CHECK_STEP_TIMEOUT seconds, default 300); a summary of the
# steps ends the output and the exit status is non-zero when one failed.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY_RUN=0
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=1
LIMIT="${GPU_CHECK_STEP_TIMEOUT:-300}"
export TSATTN_DATA_DIR="${TSATTN_DATA_DIR:-$(cd .. && pwd)/shared/data}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # the fallback when install is impossible
if [[ $DRY_RUN == 1 ]]; then
  export CUDA_VISIBLE_DEVICES=""
fi
declare -a SUMMARY=()
FAILED=0

step() {  # step NAME COMMAND...: run with a time limit, record PASS/FAIL
  local name=$1 status=PASS
  shift
  echo "=== $name: $*"
  local start=$SECONDS
  timeout "$LIMIT" "$@" || status="FAIL (exit $?)"
  [[ $status == PASS ]] || FAILED=1
  SUMMARY+=("$(printf '%-10s %-16s %4ss' "$name" "$status" $((SECONDS - start)))")
}

INSTALL='
python -c "import torch" 2>/dev/null || python -m pip install torch || exit 1
python -m pip install -e . \
  || python -m pip install -e . --no-deps --no-build-isolation \
  || echo "pip install failed: using the checkout through PYTHONPATH"
python -c "import tsattn, torch; print(\"tsattn\", tsattn.__file__, \"torch\", torch.__version__)"
'

describe_device() {
  python - <<'EOF'
import torch
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"CUDA {torch.version.cuda}: {torch.cuda.device_count()} x {p.name}, "
          f"{p.total_memory / 2**30:.0f} GiB, bf16 {torch.cuda.is_bf16_supported()}")
else:
    print("no CUDA device visible: GPU tests skip, the benchmark runs on the CPU")
EOF
}

if [[ $DRY_RUN == 1 ]]; then
  echo "dry run: nothing installed, CUDA hidden (CUDA_VISIBLE_DEVICES=)"
  step import python -c "import tsattn, torch; print('torch', torch.__version__)"
else
  step install bash -c "$INSTALL"
fi
describe_device
step gpu-tests python -m pytest -m gpu -q -rs --continue-on-collection-errors
if [[ $DRY_RUN == 1 ]]; then
  step benchmark python benchmarks/gpu_check.py --dry-run
else
  step benchmark python benchmarks/gpu_check.py
fi

echo
echo "=== gpu_check summary ($([[ $DRY_RUN == 1 ]] && echo dry run || echo full run))"
printf '%s\n' "${SUMMARY[@]}"
exit $FAILED
