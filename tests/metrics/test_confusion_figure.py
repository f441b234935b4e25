"""The confusion-matrix figure: names on the axes, scikit-learn's counts in the cells."""

from __future__ import annotations

import io

import pytest
import torch
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from cnnlab.metrics import classification_scores, confusion_matrix_figure


def _cell_texts(fig: Figure) -> dict[tuple[int, int], str]:
    return {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
        for t in fig.axes[0].texts
    }


def test_cells_hold_sklearn_counts_and_axes_the_names() -> None:
    g = torch.Generator().manual_seed(0)
    targets = torch.randint(0, 4, (200,), generator=g)
    predictions = torch.where(torch.rand(200, generator=g) < 0.7, targets, 3)
    names = ["cat", "dog", "bird", "fish"]
    matrix = classification_scores(predictions, targets, 4, names)["confusion_matrix"]
    fig = confusion_matrix_figure(matrix, names)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    expected = confusion_matrix(targets.numpy(), predictions.numpy(), labels=[0, 1, 2, 3])
    texts = _cell_texts(fig)
    assert texts == {(i, j): str(expected[i, j]) for i in range(4) for j in range(4)}
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_no_pyplot_state_is_touched() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    confusion_matrix_figure(torch.eye(3, dtype=torch.int64) * 5)
    assert plt.get_fignums() == before


def test_many_classes_keep_colours_without_numbers() -> None:
    fig = confusion_matrix_figure(torch.eye(40, dtype=torch.int64))
    assert not fig.axes[0].texts
    assert len(fig.axes[0].get_xticklabels()) == 40


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2, 3], [4, 5, 6]], "square C x C table"),
        ([[1, -1], [0, 2]], "counts"),
        ([[1.5, 0], [0, 2]], "counts"),
        ([[float("nan"), 0], [0, 2]], "finite"),
    ],
    ids=["not-square", "negative", "fraction", "nan"],
)
def test_bad_matrices_say_what_is_wrong(matrix: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        confusion_matrix_figure(matrix)
