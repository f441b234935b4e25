"""The model registry: registration, lookup, close-match errors, and the small digits CNN."""

from __future__ import annotations

import pytest
import torch

import cnnlab
from cnnlab.models import _registry, create_model, list_models, model_info, register_model
from cnnlab.models.digits_cnn import DigitsCNN


def test_reexported_from_package() -> None:
    assert cnnlab.create_model is create_model
    assert cnnlab.list_models is list_models


def test_duplicate_name_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    with pytest.raises(ValueError, match="already registered"):
        register_model(name="digits_cnn")(lambda **kw: torch.nn.Identity())


def test_unknown_name_lists_close_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    for name in ("resnet18", "resnet50", "resnet101"):
        if name not in _registry._REGISTRY:
            register_model(name=name)(lambda **kw: torch.nn.Identity())
    with pytest.raises(ValueError, match=r"unknown model 'resnet5O'; did you mean resnet50"):
        create_model("resnet5O")


def test_list_models_pattern_and_task() -> None:
    assert "digits_cnn" in list_models()
    assert list_models("digits*") == ["digits_cnn"]
    assert list_models("no-such-model*") == []
    assert "digits_cnn" in list_models(task="classification")
    with pytest.raises(ValueError, match="task must be one of"):
        list_models(task="captioning")


def test_create_model_passes_classes_and_channels() -> None:
    model = create_model("digits_cnn", num_classes=7, in_chans=3)
    out = model(torch.randn(2, 3, 8, 8))
    assert out.shape == (2, 7)
    assert model.forward_features(torch.randn(2, 3, 8, 8)).shape == (2, 64, 2, 2)
    assert model_info("digits_cnn").default_input_size == (1, 8, 8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_classes": 0}, "num_classes must be a positive integer"),
        ({"in_chans": -1}, "in_chans must be a positive integer"),
        ({"no_such_option": 1}, "unexpected option"),
        ({"width": 0}, "width must be positive"),
    ],
    ids=["zero-classes", "neg-chans", "unknown-kw", "bad-width"],
)
def test_create_model_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        create_model("digits_cnn", **kwargs)


def test_digits_cnn_head_matches_forward() -> None:
    torch.manual_seed(0)
    model = create_model("digits_cnn").eval()
    x = torch.randn(4, 1, 8, 8)
    assert torch.equal(model(x), model.forward_head(model.forward_features(x)))
    # Global pooling makes the head size-independent: 28x28 MNIST-sized input works too.
    assert model(torch.randn(1, 1, 28, 28)).shape == (1, 10)


def test_multilabel_cnn_takes_the_maximum_over_positions() -> None:
    torch.manual_seed(0)
    model = create_model("multilabel_cnn").eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        feats = model.forward_features(x)
        assert feats.shape == (2, 128, 4, 4)  # three stages: 32-64-128 channels, 32 -> 4
        # By hand: the largest response of each channel anywhere, then the linear layer.
        by_hand = feats.amax(dim=(2, 3)) @ model.fc.weight.T + model.fc.bias
        torch.testing.assert_close(model(x), by_hand)
    with pytest.raises(ValueError, match="global_pool must be one of"):
        DigitsCNN(global_pool="min")
