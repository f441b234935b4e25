"""iterations_per_epoch against the DataLoader's real length (section 1 of the notes)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from cnnlab.core import EpochAccounting, iterations_per_epoch


@pytest.mark.parametrize("drop_last", [False, True], ids=["keep-last", "drop-last"])
@pytest.mark.parametrize(
    ("n", "b"),
    [(1000, 10), (1797, 64), (1437, 64), (1, 1), (5, 7), (0, 3), (64, 64), (65, 64)],
    ids=lambda v: str(v),
)
def test_matches_dataloader_length(n: int, b: int, drop_last: bool) -> None:
    loader = DataLoader(TensorDataset(torch.zeros(n, 1)), batch_size=b, drop_last=drop_last)
    assert iterations_per_epoch(n, b, drop_last) == len(loader)
    assert iterations_per_epoch(n, b, drop_last) == sum(1 for _ in loader)


def test_notes_example() -> None:
    # The notes: 1000 samples, batch size 10 -> 100 iterations make one epoch.
    acc = EpochAccounting(num_samples=1000, batch_size=10, epochs=3)
    assert acc.iterations_per_epoch == 100
    assert acc.total_iterations == 300
    assert "iterations/epoch = ceil(N/B) = 100" in acc.describe()


@pytest.mark.parametrize(
    ("n", "b", "match"),
    [(10, 0, "batch_size"), (10, -1, "batch_size"), (-1, 4, "num_samples"), (10, 2.5, "batch")],
)
def test_bad_input(n: object, b: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        iterations_per_epoch(n, b)  # type: ignore[arg-type]
