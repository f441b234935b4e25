"""Channel rounding of the TensorFlow mobile models (MobileNet v2/v3, EfficientNet, IGCV3)."""

from __future__ import annotations


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """``value`` rounded to the nearest multiple of ``divisor``, never below 90% of ``value``.

    The rule of TF-slim's MobileNet code (``_make_divisible``): hardware likes channel counts
    that are multiples of 8, and a width multiplier should not lose more than 10% of a layer.

    Example:
        >>> make_divisible(32 * 0.75), make_divisible(24 * 1.1), make_divisible(18)
        (24, 24, 24)
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded
