"""An AutoForecaster's fitted members inside its model file, as every model is saved.

Member ``i``'s header fields (``model``, ``params``, ``state``, ``history``: the JSON strings
its own file would hold) go in a list in the AutoForecaster's state, and its tensors under
``member.<i>.``. Loading rebuilds each member with the same checks as
:func:`tsattn.load` (a registered class, every parameter and state field checked, sizes
bounded by the tensors), and refuses an AutoForecaster as a member, so nesting never recurses.
"""

from __future__ import annotations

from typing import Any

import torch

from tsattn.checks import short_repr
from tsattn.models.base import Forecaster
from tsattn.models.catalog import MODELS
from tsattn.models.persistence import forecaster_from_parts, forecaster_parts

#: the header fields saved for each member
MEMBER_FIELDS = ("model", "params", "state", "history")
PREFIX = "member."


def members_state(members: list[Forecaster]) -> tuple[list[dict], dict[str, torch.Tensor]]:
    """Each member's header fields, and all members' tensors under ``member.<i>.``."""
    entries, tensors = [], {}
    for i, member in enumerate(members):
        fields, own = forecaster_parts(member)
        entries.append(fields)
        tensors.update({f"{PREFIX}{i}.{name}": tensor for name, tensor in own.items()})
    return entries, tensors


def members_from_state(entries: object, tensors: dict[str, Any]) -> list[Forecaster]:
    """The members saved by :func:`members_state`, each checked as :func:`tsattn.load`
    checks a file; ``tensors`` loses the members' tensors."""
    if not isinstance(entries, list) or not entries:
        raise ValueError("saved state 'members' must be a non-empty list")
    owned = [_take(tensors, i) for i in range(len(entries))]
    stray = sorted(k for k in tensors if k.startswith(PREFIX))
    if stray:
        raise ValueError(f"tensor {short_repr(stray[0], 60)} belongs to no saved member")
    return [_member(i, entry, own) for i, (entry, own) in enumerate(zip(entries, owned))]


def _take(tensors: dict[str, Any], i: int) -> dict[str, Any]:
    prefix = f"{PREFIX}{i}."
    names = [k for k in tensors if k.startswith(prefix)]
    return {name[len(prefix) :]: tensors.pop(name) for name in names}


def _member(i: int, entry: object, tensors: dict[str, Any]) -> Forecaster:
    if not isinstance(entry, dict) or sorted(entry) != sorted(MEMBER_FIELDS):
        raise ValueError(f"saved member {i} must have exactly the fields {list(MEMBER_FIELDS)}")
    if not all(isinstance(entry[key], str) for key in MEMBER_FIELDS):
        raise ValueError(f"saved member {i}'s fields must be JSON strings")
    if entry["model"].lower() == "auto":
        raise ValueError(f"saved member {i} is an AutoForecaster, which cannot be a member")
    try:
        return forecaster_from_parts(MODELS.get(entry["model"]), entry, tensors)
    except ValueError as err:
        raise ValueError(f"saved member {i} ({short_repr(entry['model'], 40)}): {err}") from None
