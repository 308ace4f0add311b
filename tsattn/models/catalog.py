"""The catalog of forecasters buildable by name (CLI, benchmark runner, ``load``).

It lives apart from :mod:`tsattn.models.base` so that persistence can look a saved model's
class up without importing the base class module (which imports persistence to save).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tsattn.registry import Registry

ModelClass = TypeVar("ModelClass", bound=type)

#: registered forecaster classes, by lower-cased name
MODELS: Registry[type] = Registry("model")


def register_model(name: str) -> Callable[[ModelClass], ModelClass]:
    """Class decorator: make a forecaster buildable by name (CLI, benchmark runner)."""

    def decorator(cls: ModelClass) -> ModelClass:
        cls.registry_name = name
        return MODELS.register(name)(cls)

    return decorator
