"""Metric arithmetic that cannot overflow: each number as a mantissa and a power of two.

Errors of finite values near the float64 limit overflow plain numpy arithmetic: ``1e300 ** 2``,
``1e308 - (-1e308)`` and the sum of many values near ``1e307`` are all ``inf``, so a plain
``rmse`` of finite values near ``1e300`` comes out ``inf``. :class:`Wide` keeps every number
as ``m * 2**e`` (``m`` a float64, ``e`` an integer array), so no intermediate overflows; only the
final :meth:`Wide.to_float` can fail, with a ``ValueError``, when the metric itself lies beyond
the float64 range (e.g. the MSE of errors near ``1e300``, about ``1e600``).

Operations run on plain float64 values first and fall back to mantissas and exponents only
where a result overflows; scaling by a power of two is exact, so either way every operation
rounds as the plain numpy expression would, and ordinary data give the same floats, bit for
bit, at about the plain cost.

>>> import numpy as np
>>> err = Wide.diff(np.array([1e300, -1e300]), np.array([-1e300, 1e300]))  # |e| = 2e300
>>> (err * err).mean().sqrt().to_float("rmse")
2e+300
>>> (err * err).mean().to_float("mse")
Traceback (most recent call last):
...
ValueError: mse is about 4e+600, beyond the float64 range (1.8e+308): rescale y and the forecasts
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

#: the exponent given to zeros when looking for an array's largest exponent
_NO_EXPONENT = np.iinfo(np.int64).min // 4


class Wide(NamedTuple):
    """Numbers, elementwise: plain float64 values ``m`` (``e`` None), or ``m * 2**e``.

    Every operation first runs on plain values, as numpy would; only where its result is not
    finite (an overflow) does it run again on mantissas and exponents. Ordinary data never
    leave the plain form and cost one ``isfinite`` check per operation.
    """

    m: np.ndarray
    e: np.ndarray | None = None

    @classmethod
    def of(cls, x: object) -> Wide:
        """Finite float64 values (or bools) as plain :class:`Wide` numbers."""
        return cls(np.asarray(x, dtype=np.float64))

    @classmethod
    def diff(cls, a: np.ndarray, b: np.ndarray) -> Wide:
        """``a - b`` of finite float64 arrays, without overflow."""
        return cls.of(a) - cls.of(b)

    def _split(self) -> Wide:
        """The same numbers as mantissas in [0.5, 1) and exponents."""
        if self.e is not None:
            return self
        m, e = np.frexp(self.m)
        return Wide(m, e.astype(np.int64))

    def _renormalised(self) -> Wide:
        m, e = np.frexp(self.m)
        return Wide(m, self.e + e)

    def _binary(self, other: Wide | object, plain, split) -> Wide:
        other = other if isinstance(other, Wide) else Wide.of(other)
        if self.e is None and other.e is None:
            with np.errstate(over="ignore", invalid="ignore"):
                result = plain(self.m, other.m)
            if np.isfinite(result).all():
                return Wide(result)
        a, b = self._split(), other._split()
        return split(a, b)._renormalised()

    def __add__(self, other: Wide | object) -> Wide:
        return self._binary(other, np.add, _add)

    def __sub__(self, other: Wide | object) -> Wide:
        return self._binary(other, np.subtract, lambda a, b: _add(a, Wide(-b.m, b.e)))

    def __mul__(self, other: Wide | object) -> Wide:
        return self._binary(other, np.multiply, lambda a, b: Wide(a.m * b.m, a.e + b.e))

    def __truediv__(self, other: Wide | object) -> Wide:
        return self._binary(other, np.divide, lambda a, b: Wide(a.m / b.m, a.e - b.e))

    def __abs__(self) -> Wide:
        return Wide(np.abs(self.m), self.e)

    def where(self, keep: np.ndarray, other: float) -> Wide:
        """These numbers where ``keep``, ``other`` elsewhere (e.g. a safe denominator)."""
        if self.e is None:
            return Wide(np.where(keep, self.m, other))
        fill = Wide.of(np.full(np.shape(keep), other))._split()
        return Wide(np.where(keep, self.m, fill.m), np.where(keep, self.e, fill.e))

    def nonzero(self) -> np.ndarray:
        return self.m != 0

    def sqrt(self) -> Wide:
        if self.e is None:
            return Wide(np.sqrt(self.m))
        odd = self.e % 2
        return Wide(np.sqrt(self.m * (1 + odd)), (self.e - odd) // 2)._renormalised()

    def sum(self, axis: int | None = None) -> Wide:
        return self._reduce(np.sum, axis)

    def mean(self, axis: int | None = None) -> Wide:
        return self._reduce(np.mean, axis)

    def _reduce(self, reduce, axis: int | None) -> Wide:
        if self.e is None:
            with np.errstate(over="ignore", invalid="ignore"):
                result = reduce(self.m, axis=axis)
            if np.isfinite(result).all():
                return Wide(np.asarray(result))
        x = self._split()
        top = _top_exponent(x, axis)
        inner = reduce(_ldexp(x.m, x.e - top), axis=axis)
        return Wide(inner, _drop(top, axis))._renormalised()

    def to_float(self, metric: str, hint: str = "rescale y and the forecasts") -> float:
        """The (scalar) value as a float, or a ``ValueError`` (ending in ``hint``) when it
        exceeds float64."""
        if self.e is None:
            return float(self.m)
        with np.errstate(over="ignore"):
            value = float(_ldexp(self.m, self.e))
        if not math.isfinite(value):
            power = math.log10(abs(float(self.m))) + float(self.e) * math.log10(2.0)
            digit, exponent = round(10 ** (power % 1)), int(power)
            shown = f"1e+{exponent + 1}" if digit == 10 else f"{digit}e+{exponent}"
            raise ValueError(
                f"{metric} is about {shown}, beyond the float64 range (1.8e+308): {hint}"
            )
        return value


def _add(a: Wide, b: Wide) -> Wide:
    """``a + b`` of split numbers: both scaled to the larger exponent (exactly), then added."""
    top = np.maximum(a.e, b.e)
    return Wide(_ldexp(a.m, a.e - top) + _ldexp(b.m, b.e - top), top)


def _ldexp(m: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``m * 2**e``; exponents clipped to a range where the result is 0 or inf anyway."""
    return np.ldexp(m, np.clip(e, -4000, 4000).astype(np.int32))


def _top_exponent(x: Wide, axis: int | None) -> np.ndarray:
    """The largest exponent of the nonzero numbers along ``axis`` (0 where all are zero)."""
    top = np.max(np.where(x.m == 0, _NO_EXPONENT, x.e), axis=axis, keepdims=True)
    return np.where(top == _NO_EXPONENT, 0, top)


def _drop(top: np.ndarray, axis: int | None) -> np.ndarray:
    return top.reshape(()) if axis is None else np.squeeze(top, axis=axis)
