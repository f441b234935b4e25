"""`cnnlab train --model NAME` on small images: a clear error naming the true minimum size."""

from __future__ import annotations

import re

import pytest
import torch

from cnnlab.models import create_model, list_models
from cnnlab.train.input_check import check_input_size


def _runs_on_meta(name: str, side: int) -> bool:
    # Independent of input_check: build on meta, run one forward, report whether torch accepts.
    with torch.device("meta"):
        model = create_model(name, num_classes=10, in_chans=1).eval()
        try:
            model(torch.empty(1, 1, side, side))
        except RuntimeError:
            return False
    return True


@pytest.mark.parametrize("name", list_models(task="classification"))
def test_small_digits_either_fit_or_get_the_exact_minimum(name: str) -> None:
    try:
        check_input_size(name, 10, (1, 8, 8))
    except ValueError as err:
        message = str(err)
        assert message.startswith(f"model {name!r} cannot take 1x8x8 inputs"), message
        assert "--image-size" in message
        found = re.search(r"at least (\d+)x\1", message)
        assert found, message
        side = int(found.group(1))
        assert _runs_on_meta(name, side), f"{name} fails at the reported minimum {side}"
        assert not _runs_on_meta(name, side - 1), f"{name} also runs at {side - 1}"
    else:
        assert _runs_on_meta(name, 8)
