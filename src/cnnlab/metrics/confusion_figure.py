"""The confusion matrix as a figure: class names on the axes, the counts in the cells.

Drawn on a ``matplotlib.figure.Figure`` (no pyplot state, the global backend is left alone);
the caller saves it (``fig.savefig(path)``, or ``cnnlab.core.files.atomic_write`` for files a
user gets).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnlab.metrics._checks import check_class_names

__all__ = ["MAX_ANNOTATED_CLASSES", "confusion_matrix_figure"]

MAX_ANNOTATED_CLASSES = 30
"""Above this many classes the cells are too small to print counts in; the colours remain."""


def _as_matrix(matrix: Any) -> np.ndarray:
    try:
        array = np.asarray(matrix.cpu() if hasattr(matrix, "cpu") else matrix)
    except (TypeError, ValueError) as error:
        raise ValueError(f"matrix must be a square table of counts, got {matrix!r}") from error
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"matrix must be a square C x C table, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
        raise ValueError("matrix must hold finite numbers")
    if (array < 0).any() or (array != np.round(array)).any():
        raise ValueError("matrix must hold counts (whole numbers >= 0)")
    return array.astype(np.int64)


def confusion_matrix_figure(
    matrix: Any,
    class_names: Sequence[str] | None = None,
    *,
    title: str = "confusion matrix",
) -> Figure:
    """Draw a confusion matrix, rows = true class, columns = predicted class.

    Cells are coloured by the share of their row (the recall of that true class spread over the
    predictions), so a small class's errors are as visible as a large one's; each cell prints
    its count (up to :data:`MAX_ANNOTATED_CLASSES` classes).

    Args:
        matrix: ``C x C`` counts, target-major (``classification_scores(...)["confusion_matrix"]``,
            a tensor or an array).
        class_names: ``C`` distinct names for the axes (default ``"0"``, ``"1"``, ...).
        title: the axes title.

    Returns:
        The figure (the caller saves it).

    Example:
        >>> fig = confusion_matrix_figure([[5, 1], [0, 4]], ["cat", "dog"])
        >>> fig.axes[0].get_xlabel()
        'predicted class'
    """
    counts = _as_matrix(matrix)
    c = counts.shape[0]
    names = check_class_names(class_names, c)
    row_sums = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_sums, out=np.zeros(counts.shape), where=row_sums > 0)

    side = min(max(4.0, 0.45 * c + 2.0), 16.0)
    fig = Figure(figsize=(side + 1.0, side), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, label="share of the true class (row)", shrink=0.8)
    slanted = c > 4 and max(len(n) for n in names) > 2  # long names would overlap
    ax.set_xticks(
        range(c), names, rotation=45 if slanted else 0, ha="right" if slanted else "center"
    )
    ax.set_yticks(range(c), names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    if c <= MAX_ANNOTATED_CLASSES:
        for i in range(c):
            for j in range(c):
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=9 if c <= 12 else 6,
                    color="white" if shares[i, j] > 0.5 else "black",
                )
    return fig
