"""One small generic name -> class registry.

Every pluggable family (attention scorers, forecasting models, datasets) keeps one
:class:`Registry`. Names are case-insensitive; unknown names raise a ``ValueError``
that suggests the nearest valid name and lists them all.

>>> reg = Registry("widget")
>>> @reg.register("plain")
... class Plain:
...     pass
>>> reg.get("PLAIN") is Plain
True
>>> reg.names()
['plain']
>>> reg.get("plian")
Traceback (most recent call last):
...
ValueError: unknown widget 'plian' (did you mean 'plain'?); valid names: plain
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from tsattn.checks import did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps lower-cased names to registered objects (usually classes)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering an object under ``name``."""

        def decorator(obj: T) -> T:
            key = name.lower()
            if key in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[key] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """Return the object registered under ``name`` (case-insensitive)."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {type(name).__name__}")
        try:
            return self._entries[name.lower()]
        except KeyError:
            hint = did_you_mean(name, self.names())
            raise ValueError(
                f"unknown {self.kind} {name!r}{hint}; valid names: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries
