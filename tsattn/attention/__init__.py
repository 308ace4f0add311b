"""Pluggable attention: a registry of scoring functions and the factory that builds them.

>>> from tsattn.attention import create_attention, list_attention
>>> list_attention()
['bilinear_mlr', 'btt', 'mlr', 'mlr_paper', 'sliding', 'softmax']
>>> attn = create_attention("mlr", d_model=16, n_heads=4, seq_len=42)
>>> attn.scorer.ranks
[2, 1, 1]
"""

from __future__ import annotations

import copy
import inspect

from tsattn.attention.base import (
    AttentionOutput,
    AttentionScorer,
    MultiHeadAttention,
    QueryKey,
)
from tsattn.attention.bilinear_mlr import BilinearMLRScorer
from tsattn.attention.btt import BTTScorer
from tsattn.attention.mlr import MLRPaperScorer, MLRScorer, default_mlr_ranks
from tsattn.attention.sliding import SlidingWindowScorer
from tsattn.attention.softmax import SoftmaxScorer
from tsattn.registry import Registry

ATTENTION: Registry[type[AttentionScorer]] = Registry("attention")
ATTENTION.register("softmax")(SoftmaxScorer)
ATTENTION.register("sliding")(SlidingWindowScorer)
ATTENTION.register("mlr")(MLRScorer)
ATTENTION.register("mlr_paper")(MLRPaperScorer)
ATTENTION.register("btt")(BTTScorer)
ATTENTION.register("bilinear_mlr")(BilinearMLRScorer)

AttentionSpec = str | type[AttentionScorer] | AttentionScorer | MultiHeadAttention


def list_attention() -> list[str]:
    """The registered attention names."""
    return ATTENTION.names()


def saveable_attention(spec: AttentionSpec, strict: bool) -> AttentionSpec:
    """An attention spec as a model file can hold it: a name stays, a registered scorer
    class becomes its name; anything else is returned as is, or with ``strict`` (saving) is
    a ``ValueError`` saying how to make it saveable."""
    if isinstance(spec, str):
        return spec
    for name in list_attention():
        if ATTENTION.get(name) is spec:
            return name
    if strict:
        kind = "class" if isinstance(spec, type) and issubclass(spec, AttentionScorer) else "object"
        raise ValueError(
            f"cannot save a model whose attention is the unregistered {kind} {spec!r}: save "
            f"needs a registered name ({', '.join(list_attention())}) or registered class; "
            f"register the scorer (tsattn.attention.ATTENTION.register) or pass its name"
        )
    return spec


#: scorer constructor arguments that come from the layer, never from a user's options
_LAYER_ARGUMENTS = ("self", "d_model", "n_heads", "seq_len", "causal")


def scorer_option_names() -> list[str]:
    """Every option some registered scorer takes (``ranks``, ``window``, ``rank``...), read
    from the scorers' constructor signatures, so a new scorer's options need no list."""
    names: set[str] = set()
    for name in ATTENTION.names():
        for cls in ATTENTION.get(name).__mro__:
            if "__init__" not in vars(cls) or not issubclass(cls, AttentionScorer):
                continue
            parameters = inspect.signature(cls.__init__).parameters.values()
            variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
            options = [p.name for p in parameters if p.kind not in variadic]
            names.update(name for name in options if name not in _LAYER_ARGUMENTS)
    return sorted(names)


def create_attention(
    name_or_class_or_instance: AttentionSpec,
    d_model: int,
    n_heads: int,
    seq_len: int,
    causal: bool = False,
    **options,
) -> MultiHeadAttention:
    """Build a :class:`MultiHeadAttention` around a scorer.

    Args:
        name_or_class_or_instance: a registered name (see :func:`list_attention`), a scorer
            class, or an instance (a scorer or a ``MultiHeadAttention``), used as a prototype:
            each call returns a deep copy, so layers never share weights.
        d_model, n_heads, seq_len, causal: the layer's shape and masking.
        **options: ``dropout`` (attention-weight dropout) and ``bias`` go to the
            multi-head module; everything else (``qk_norm``, ``window``, ``ranks``,
            ``block_sizes``, ``scale``, ``normalize``, ``rank``) to the scorer.

    Raises:
        ValueError: unknown name (the message lists the valid ones), bad options, or an
            instance whose shape does not match.
    """
    dropout = options.pop("dropout", 0.0)
    bias = options.pop("bias", True)
    spec = name_or_class_or_instance
    if isinstance(spec, MultiHeadAttention):
        _check_instance(spec.scorer, d_model, n_heads, causal, options)
        return copy.deepcopy(spec)
    if isinstance(spec, AttentionScorer):
        _check_instance(spec, d_model, n_heads, causal, options)
        return MultiHeadAttention(copy.deepcopy(spec), dropout=dropout, bias=bias)
    cls = ATTENTION.get(spec) if isinstance(spec, str) else spec
    if not (inspect.isclass(cls) and issubclass(cls, AttentionScorer)):
        raise ValueError(
            f"attention must be a name ({', '.join(list_attention())}), an AttentionScorer "
            f"class or an instance; got {spec!r}"
        )
    _check_options(cls, options)
    scorer = cls(d_model, n_heads, seq_len, causal=causal, **options)
    return MultiHeadAttention(scorer, dropout=dropout, bias=bias)


def _check_options(cls: type[AttentionScorer], options: dict) -> None:
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "d_model", "n_heads"}
    accepted -= {"seq_len", "causal"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for attention {cls.__name__}; "
            f"accepted: {sorted(accepted | {'dropout', 'bias'})}"
        )


def _check_instance(
    scorer: AttentionScorer, d_model: int, n_heads: int, causal: bool, options: dict
) -> None:
    if (scorer.d_model, scorer.n_heads) != (d_model, n_heads):
        raise ValueError(
            f"attention instance was built for d_model={scorer.d_model}, "
            f"n_heads={scorer.n_heads}, but the layer needs d_model={d_model}, n_heads={n_heads}"
        )
    if scorer.causal != bool(causal):
        raise ValueError(
            f"attention instance was built with causal={scorer.causal}, but the layer needs "
            f"causal={bool(causal)}: build the instance with causal={bool(causal)}"
        )
    if options:
        raise ValueError(
            f"options {sorted(options)} cannot change an attention instance; pass them when "
            f"building it, or give a name or class instead"
        )


__all__ = [
    "ATTENTION",
    "AttentionOutput",
    "AttentionScorer",
    "BTTScorer",
    "BilinearMLRScorer",
    "MLRPaperScorer",
    "MLRScorer",
    "MultiHeadAttention",
    "QueryKey",
    "SlidingWindowScorer",
    "SoftmaxScorer",
    "create_attention",
    "default_mlr_ranks",
    "list_attention",
    "saveable_attention",
    "scorer_option_names",
]
