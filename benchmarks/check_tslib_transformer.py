"""Check tsattn's VanillaTransformer against Time-Series-Library's ``Transformer``.

Builds the reference model with its ETTh1 script's configuration (d_model 512, 8 heads,
e_layers 2, d_layers 1, d_ff 2048, dropout 0.1, timeF embedding, gelu, seq_len 96,
label_len 48), copies its weights into ours by name, and compares the parameter counts and
the outputs (eval mode) and gradients on the same inputs, for horizons 96, 192 and 336.

Usage (the reference source is read, never installed)::

    git --git-dir=<mirror of thuml/Time-Series-Library> archive HEAD models layers utils \
        | tar -x -C /tmp/tslib
    python benchmarks/check_tslib_transformer.py /tmp/tslib

Writes ``benchmarks/results/vanilla_transformer/tslib_check.csv``.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import types
from pathlib import Path

import torch

from tsattn.models import VanillaTransformerConfig, VanillaTransformerNetwork

RESULTS = Path(__file__).resolve().parent / "results" / "vanilla_transformer"
REFERENCE_CONFIG = dict(
    task_name="long_term_forecast",
    seq_len=96,
    label_len=48,
    enc_in=7,
    dec_in=7,
    c_out=7,
    d_model=512,
    n_heads=8,
    e_layers=2,
    d_layers=1,
    d_ff=2048,
    factor=3,
    dropout=0.1,
    embed="timeF",
    freq="h",
    activation="gelu",
)

# reference parameter name -> ours (applied in order; conv1/conv2 are kernel-1 convolutions)
RENAMES = [
    (r"^enc_embedding\.", "encoder_embedding."),
    (r"^dec_embedding\.", "decoder_embedding."),
    (r"value_embedding\.tokenConv\.", "value.conv."),
    (r"temporal_embedding\.embed\.", "time."),
    (r"^encoder\.norm\.", "encoder_norm."),
    (r"^encoder\.attn_layers\.", "encoder.layers."),
    (r"^decoder\.projection\.", "projection."),
    (r"(layers\.\d+\.)attention\.(query|key)_projection", r"\1attention.scorer.\2"),
    (r"(layers\.\d+\.)self_attention\.(query|key)_projection", r"\1self_attention.scorer.\2"),
    (r"value_projection", "value"),
    (r"out_projection", "out"),
    (r"cross_attention\.(query|key)_projection", r"cross_attention.\1"),
    (r"\.conv1\.", ".feed_forward.0."),
    (r"\.conv2\.", ".feed_forward.3."),
]
ENCODER_NORMS = {"norm1": "attention_norm", "norm2": "feed_forward_norm"}
DECODER_NORMS = {"norm1": "self_norm", "norm2": "cross_norm", "norm3": "feed_forward_norm"}


def our_name(name: str) -> str:
    """Our parameter name for a reference parameter name."""
    for pattern, replacement in RENAMES:
        name = re.sub(pattern, replacement, name)
    norms = ENCODER_NORMS if name.startswith("encoder.") else DECODER_NORMS
    return re.sub(r"\.(norm\d)\.", lambda m: f".{norms[m.group(1)]}.", name)


def load_reference(source: Path, horizon: int) -> torch.nn.Module:
    """The reference ``Transformer`` (long-term forecast) built from its source folder."""
    for missing in ("reformer_pytorch", "einops"):  # imported by files we do not use
        if missing not in sys.modules:
            stub = types.ModuleType(missing)
            stub.LSHSelfAttention = stub.rearrange = stub.repeat = None
            sys.modules[missing] = stub
    sys.path.insert(0, str(source))
    from models.Transformer import Model  # noqa: PLC0415 - the reference, found at run time

    return Model(types.SimpleNamespace(pred_len=horizon, **REFERENCE_CONFIG))


def ours(horizon: int) -> VanillaTransformerNetwork:
    c = REFERENCE_CONFIG
    config = VanillaTransformerConfig(
        input_size=c["seq_len"],
        horizon=horizon,
        n_channels=c["enc_in"],
        label_len=c["label_len"],
    )
    return VanillaTransformerNetwork(config)


def copy_weights(reference: torch.nn.Module, network: torch.nn.Module) -> None:
    """Load the reference's parameters into ``network`` (every parameter must map)."""
    state = {}
    for name, tensor in reference.state_dict().items():
        if name.endswith("position_embedding.pe"):
            continue  # the fixed sinusoidal table, a buffer on both sides
        state[our_name(name)] = (
            tensor.squeeze(-1) if ".conv1." in name or ".conv2." in name else tensor
        )
    network.load_state_dict(state, strict=True)


def compare(source: Path, horizon: int, batch: int = 4) -> dict:
    torch.manual_seed(0)
    reference = load_reference(source, horizon)
    network = ours(horizon)
    copy_weights(reference, network)
    count = [sum(p.numel() for p in m.parameters()) for m in (reference, network)]
    reference.eval(), network.eval()
    c = REFERENCE_CONFIG
    x = torch.randn(batch, c["seq_len"], c["enc_in"])
    x_marks = torch.rand(batch, c["seq_len"], 4) - 0.5
    y_marks = torch.rand(batch, c["label_len"] + horizon, 4) - 0.5
    decoder_in = network.decoder_input(x)  # = batch_y[:, :label_len] + zeros in the reference
    expected = reference(x, x_marks, decoder_in, y_marks)  # (B, H, C)
    got = network(x, x_marks, y_marks)
    expected.square().mean().backward()
    got.square().mean().backward()
    grads = dict(reference.named_parameters())
    ours_grads = dict(network.named_parameters())
    grad_diff = max(
        (grads[n].grad.reshape(-1) - ours_grads[our_name(n)].grad.reshape(-1)).abs().max().item()
        for n in grads
    )
    return {
        "horizon": horizon,
        "params_reference": count[0],
        "params_tsattn": count[1],
        "max_abs_output_diff": (expected - got).abs().max().item(),
        "output_scale": expected.abs().max().item(),
        "max_abs_grad_diff": grad_diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with TSLib's models/, layers/, utils/")
    args = parser.parse_args()
    rows = [compare(args.source, h) for h in (96, 192, 336)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "tslib_check.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
