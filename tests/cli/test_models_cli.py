"""`cnnlab models`: every registered model with parameters and MACs at its default size."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch

from cnnlab.cli.main import main
from cnnlab.models import create_model, list_models, model_info


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_lists_every_registered_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--format", "csv")
    assert code == 0 and err == ""
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert sorted(rows) == list_models()
    for name, row in rows.items():
        info = model_info(name)
        assert row["family"] == info.family and row["task"] == info.task
        assert row["input_size"] == "x".join(map(str, info.default_input_size))
        with torch.device("meta"):  # the architecture, counted independently of summary
            model = create_model(name)
        assert int(row["params"]) == sum(p.numel() for p in model.parameters())
        assert int(row["macs"]) > 0


def test_digits_cnn_macs_by_hand(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "digits*", "--format", "json")
    assert code == 0
    (row,) = json.loads(out)
    # conv 1->32, 32->32 at 8x8; 32->64, 64->64 at 4x4 (3x3 kernels); linear 64->10
    by_hand = 64 * 9 * (1 * 32 + 32 * 32) + 16 * 9 * (32 * 64 + 64 * 64) + 64 * 10
    assert row["name"] == "digits_cnn" and row["macs"] == by_hand


def test_table_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 0 and "digits_cnn" in out and "macs" in out
    code, out, _ = run(capsys, "digits*", "--format", "markdown")
    assert code == 0 and "| name | family | task | input_size | params | macs |" in out


def test_no_match_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "nothing*")
    assert code == 2 and "no registered model matches 'nothing*'" in err
