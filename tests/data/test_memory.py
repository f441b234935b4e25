"""An eagerly resized dataset that would not fit in memory is refused up front, with numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from cnnlab.cli.main import main
from cnnlab.core.validate import InvalidArgument
from cnnlab.data import load_arrays, load_dataset, memory

GB = 10**9


@pytest.fixture
def sixteen_gb(monkeypatch: pytest.MonkeyPatch) -> int:
    """A machine with 16 GB available, whatever this one has."""
    monkeypatch.setattr(memory, "available_memory", lambda: 16 * GB)
    return 16 * GB


def test_the_trials_image_size_2000_is_refused_with_the_estimate(sixteen_gb: int) -> None:
    with pytest.raises(InvalidArgument) as err:
        load_dataset("digits", image_size=2000)
    assert err.value.argument == "image_size"
    message = str(err.value)
    # 1,797 digits x 2000^2 pixels x 4 bytes (float32) = 28.752e9 bytes
    assert message.startswith("image_size 2000 needs about 28.8 GB for the 1,797 digits images")
    largest = int(re.search(r"the largest size that fits is (\d+)$", message).group(1))
    budget = 0.8 * sixteen_gb
    assert 1797 * largest**2 * 4 <= budget < 1797 * (largest + 1) ** 2 * 4


def test_a_size_that_fits_is_resized_as_torch_does(sixteen_gb: int) -> None:
    bundle = load_dataset("digits", image_size=12)
    data = load_arrays("digits")
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(data.x_val).float(), size=(12, 12), mode="bilinear", align_corners=False
    )
    torch.testing.assert_close(bundle.val.tensors[0], expected)
    assert bundle.image_size == (12, 12) and len(bundle.train) == 1437


def test_the_cli_names_the_flag_before_any_work(
    sixteen_gb: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["train", "--image-size", "2000", "--epochs", "1", "--out", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("cnnlab train: error: --image-size 2000 needs about 28.8 GB")
    assert not (run / "last.pt").exists()


def test_this_machine_refuses_a_size_no_machine_has() -> None:
    # 1,797 x 10^10 x 4 bytes = 71.9 TB: refused on any machine, with the real memory figure.
    with pytest.raises(InvalidArgument, match=r"image_size 100000 needs about 71,880\.0 GB"):
        load_dataset("digits", image_size=100_000)


def test_available_memory_is_a_plausible_number() -> None:
    available = memory.available_memory()
    assert available is None or 10**7 < available < 10**14
