"""Fidelity to the paper's official code and to the PatchTST reference (issue 15).

Each check writes the reference's computation here, independently of the library code:

* bilinear MLR as the official ``BilinearMLRAttention`` computes it (per-factor RMS clamp,
  chunk projections in "(r p)" order, per-level LayerNorm, scale 1/sqrt(r_l * 2^l));
* the paper's MLR recipe (``mlr_paper``) against ``mlr`` with the options spelled out;
* the learning rate (and Adam beta1) per epoch of the reference's ``lradj="type3"``:
  torch's ``OneCycleLR`` built as PatchTST's ``exp_main.py`` builds it, never stepped, and the
  reference's ``adjust_learning_rate`` applied after each epoch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tsattn.attention import create_attention
from tsattn.benchmark.reference import reference_hyperparameters
from tsattn.training.schedules import LRSchedule


def x64(batch: int, seq_len: int, d_model: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, seq_len, d_model, generator=g, dtype=torch.float64)


# ------------------------------------------------------------------------------ bilinear MLR
def official_clamp(w: torch.Tensor) -> torch.Tensor:
    """The official ``BilinearMLRProjection`` clamp of a (p, d_in, d_out) factor."""
    d_in, d_out = w.shape[-2], w.shape[-1]
    rms = torch.sqrt(torch.mean(w**2.0) + 1e-8)
    ceiling = (min(d_in, d_out) * d_out / (d_out * d_in * d_in)) ** 0.5
    return w / max(1.0, (rms / ceiling).item())


def official_bilinear_mlr_scores(attn, x: torch.Tensor, ranks, qk_norm: bool) -> torch.Tensor:
    """(B, H, T, T) logits of the official bilinear MLR from the module's weights."""
    sd, n_heads = attn.state_dict(), attn.n_heads
    b, t, dim = x.shape
    total = torch.zeros(b, n_heads, t, t, dtype=x.dtype)
    for level, r in enumerate(ranks):
        p = 2**level
        # (B, T, D) -> (p, B*T, D/p): the p contiguous chunks of the features
        chunks = torch.stack(torch.split(x, dim // p, dim=-1), dim=0).reshape(p, b * t, dim // p)
        sides = []
        for proj, norm in (("queries", "q_norms"), ("keys", "k_norms")):
            w = official_clamp(sd[f"scorer.{proj}.{level}.weight"])  # (p, D/p, H*r)
            y = torch.bmm(chunks, w)  # (p, B*T, H*r)
            # "p (B T) (H r) -> B H T (r p)"
            y = y.reshape(p, b, t, n_heads, r).permute(1, 3, 2, 4, 0).reshape(b, n_heads, t, r * p)
            if qk_norm:
                weight, bias = (
                    sd[f"scorer.{norm}.{level}.weight"],
                    sd[f"scorer.{norm}.{level}.bias"],
                )
                y = F.layer_norm(y, (r * p,), weight, bias, 1e-5)
            sides.append(y)
        total += sides[0] @ sides[1].transpose(-2, -1) / math.sqrt(r * p)
    return total


BILINEAR_CASES = [(16, 4, [2, 1, 1]), (16, 4, [4]), (16, 4, [1, 1, 1, 1]), (32, 4, [4, 2, 2])]


@pytest.mark.parametrize("d_model,n_heads,ranks", BILINEAR_CASES)
@pytest.mark.parametrize("qk_norm", [False, True])
@pytest.mark.parametrize("inflate", [1.0, 30.0, 0.05])
def test_bilinear_mlr_equals_the_official_computation(d_model, n_heads, ranks, qk_norm, inflate):
    torch.manual_seed(0)
    attn = create_attention(
        "bilinear_mlr", d_model, n_heads, 42, ranks=ranks, qk_norm=qk_norm
    ).double()
    with torch.no_grad():
        for name, p in attn.scorer.named_parameters():
            if "norm" in name:  # LayerNorm affine away from (1, 0): its order matters
                p.copy_(torch.randn_like(p))
            else:
                p.mul_(inflate)
    x = x64(2, 42, d_model)
    expected = official_bilinear_mlr_scores(attn, x, ranks, qk_norm)
    with torch.no_grad():
        torch.testing.assert_close(attn.scores(x), expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(attn(x), attn.attend(x).output, rtol=0, atol=1e-12)


def test_bilinear_mlr_clamp_is_active_at_initialisation():
    """D=16, H=4, ranks [2, 1, 1]: the clamp rescales the drawn factors (RMS 1/sqrt(d_in))
    to at most rho = sqrt(min(d_in, d_out)) / d_in, i.e. by up to 1/sqrt(2) at level 0."""
    torch.manual_seed(0)
    scorer = create_attention("bilinear_mlr", 16, 4, 42, ranks=[2, 1, 1]).scorer
    for level, r in enumerate([2, 1, 1]):
        d_in, d_out = 16 // 2**level, 4 * r
        rho = math.sqrt(min(d_in, d_out)) / d_in
        for proj in (scorer.queries[level], scorer.keys[level]):
            used = proj.clamped_weight()
            rms = used.pow(2).mean().add(1e-8).sqrt().item()
            assert rms <= rho * (1 + 1e-6)
            factor = (used / proj.weight).mean().item()
            assert factor == pytest.approx(
                min(1.0, rho / proj.weight.pow(2).mean().add(1e-8).sqrt().item())
            )
    assert (scorer.queries[0].clamped_weight() / scorer.queries[0].weight).max() < 0.75


# ------------------------------------------------------------------------------ MLR recipe
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("ranks", [None, [2, 2], [1, 1, 1, 1]])
def test_mlr_paper_is_mlr_with_the_papers_options(causal, ranks):
    torch.manual_seed(0)
    paper = create_attention("mlr_paper", 16, 4, 42, causal=causal, ranks=ranks).double()
    explicit = create_attention(
        "mlr",
        16,
        4,
        42,
        causal=causal,
        ranks=ranks,
        qk_norm=True,
        scale="per_level",
        normalize="levels",
    ).double()
    explicit.load_state_dict(paper.state_dict())  # same parameters, same names
    x = x64(2, 42, 16)
    with torch.no_grad():
        torch.testing.assert_close(paper.scores(x), explicit.scores(x), rtol=0, atol=0)
        torch.testing.assert_close(paper(x), explicit(x), rtol=0, atol=0)
    scorer = paper.scorer
    assert scorer.qk_norm and scorer.scale_mode == "per_level" and scorer.normalize == "levels"
    assert scorer.level_scales() == [1.0 / r for r in scorer.ranks]


def test_mlr_paper_keeps_its_recipe_and_works_in_specs():
    with pytest.raises(ValueError, match="unknown option"):
        create_attention("mlr_paper", 16, 4, 42, scale="uniform")
    assert not create_attention("mlr_paper", 16, 4, 42, qk_norm=False).scorer.qk_norm
    from tsattn.models.factory import create_model, parse_model_spec

    assert parse_model_spec("patchtst:mlr_paper").params == {"attention": "mlr_paper"}
    model = create_model("patchtst:mlr_paper", h=24, input_size=96)
    assert model.attention == "mlr_paper"


# ------------------------------------------------------------------------------ schedule
def reference_type3_run(lr: float, epochs: int, steps_per_epoch: int, pct_start: float):
    """(lr, beta1) each epoch trains with, as PatchTST's ``exp_main.train`` sets them under
    ``lradj="type3"``: OneCycleLR built (never stepped), ``adjust_learning_rate(epoch + 1)``
    after each epoch."""
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=lr)
    torch.optim.lr_scheduler.OneCycleLR(
        optimizer=optimizer,
        steps_per_epoch=steps_per_epoch,
        pct_start=pct_start,
        epochs=epochs,
        max_lr=lr,
    )
    seen = []
    for epoch in range(epochs):
        group = optimizer.param_groups[0]
        seen.append((group["lr"], group["betas"][0]))
        next_epoch = epoch + 1  # adjust_learning_rate(optimizer, scheduler, epoch + 1, args)
        new_lr = lr if next_epoch < 3 else lr * (0.9 ** ((next_epoch - 3) // 1))
        for group in optimizer.param_groups:
            group["lr"] = new_lr
    return seen


@pytest.mark.parametrize("lr", [1e-4, 3e-3])
def test_type3_reference_matches_the_reference_run(lr):
    epochs, steps = 12, 7
    expected = reference_type3_run(lr, epochs, steps, pct_start=0.3)
    assert expected[0][0] == pytest.approx(lr / 25) and expected[0][1] == 0.95
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=lr)
    schedule = LRSchedule(optimizer, "type3_reference", lr=lr, total_steps=epochs * steps)
    seen = []
    for epoch in range(epochs):
        schedule.start_epoch(epoch)
        seen.append((schedule.current, optimizer.param_groups[0]["betas"][0]))
        for _ in range(steps):
            optimizer.step()
            schedule.after_batch()
    np.testing.assert_allclose(seen, expected, rtol=1e-12, atol=0)


def test_reference_preset_uses_the_quirk_and_defaults_do_not():
    from tsattn.models import TrainingConfig

    assert reference_hyperparameters("ETTh1").lr_schedule == "type3_reference"
    assert reference_hyperparameters("weather").lr_schedule == "type3_reference"
    assert reference_hyperparameters("ETTm1").lr_schedule == "onecycle"
    assert TrainingConfig().lr_schedule == "type3"  # constructors' default unchanged
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
    schedule = LRSchedule(optimizer, "type3", lr=1e-4, total_steps=10)
    schedule.start_epoch(0)
    assert schedule.current == 1e-4 and optimizer.param_groups[0]["betas"][0] == 0.9
