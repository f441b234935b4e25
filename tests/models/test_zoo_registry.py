"""Every registered model: builds, trains one step with finite gradients, honours
``num_classes`` and ``in_chans``; classifiers split into ``forward_features`` + ``forward_head``."""

from __future__ import annotations

import inspect

import pytest
import torch

from cnnlab.models import create_model, list_models, model_info

NUM_CLASSES = 3

# Small test inputs: each model's cheapest comfortable size. AlexNet needs >= 63 pixels;
# U-Net (valid convolutions) needs 16k + 124, k >= 4; the FCNs pad conv1_1 by 100 anyway, so
# their cost hardly depends on the input and batch 1 halves it.
SIDE = {"alexnet": 64, "unet": 188, **dict.fromkeys(("inception_v3", "inception_v4"), 75)}
SIDE["inception_resnet_v2"] = 75
BATCH = {"fcn8s": 1, "fcn16s": 1, "fcn32s": 1}
# Expected output side of the dense models for their test input.
DENSE_SIDE = {"unet": 4}  # 188 - 184 (U-Net's valid convolutions)


# The detectors take lists of images and targets: tests/detection covers them.
ZOO = [n for n in list_models() if model_info(n).task != "detection"]


def _input(name: str) -> torch.Tensor:
    chans, h, _ = model_info(name).default_input_size
    side = SIDE.get(name, min(h, 32))
    return torch.randn(BATCH.get(name, 2), chans, side, side)


@pytest.mark.parametrize("name", ZOO)
def test_forward_backward_finite(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, num_classes=NUM_CLASSES)
    x = _input(name)
    info = model_info(name)
    if info.task == "classification":
        # The split API gives the same logits as forward (eval: dropout and BN deterministic).
        model.eval()
        with torch.no_grad():
            feats = model.forward_features(x)
            torch.testing.assert_close(model.forward_head(feats), model(x), rtol=0, atol=0)
            pooled = model.forward_head(feats, pre_logits=True)
        assert pooled.ndim == 2 and pooled.shape[0] == x.shape[0]
    model.train()
    out = model(x)
    if info.task == "classification":
        assert out.shape == (x.shape[0], NUM_CLASSES)
    else:
        side = DENSE_SIDE.get(name, x.shape[-1])  # FCN crops to the input size
        assert out.shape == (x.shape[0], NUM_CLASSES, side, side)
    (out.square().mean() + out.mean()).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: no gradient for {pname}"
        assert torch.isfinite(p.grad).all(), f"{name}: non-finite gradient in {pname}"
    # One training step moves the weights and keeps them finite (FCN's zero-initialised score
    # layers leave its upsampling without gradient at first: take the last that has one).
    last = next(p for p in reversed(list(model.parameters())) if p.grad.abs().sum() > 0)
    before = last.detach().clone()
    torch.optim.SGD(model.parameters(), lr=0.01).step()
    assert not torch.equal(last, before)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("name", ZOO)
def test_num_classes_and_in_chans(name: str) -> None:
    # On the meta device: shapes only, so the default input size costs nothing.
    info = model_info(name)
    _, h, w = info.default_input_size
    with torch.device("meta"):
        model = create_model(name, num_classes=7, in_chans=5).eval()
        out = model(torch.empty(1, 5, h, w))
    assert out.shape[:2] == (1, 7)
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 5


SECOND_WAVE = {
    # torchvision twins
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    "wide_resnet101_2",
    "googlenet",
    "inception_v3",
    *[f"densenet{d}" for d in (121, 161, 169, 201)],
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    *[f"efficientnet_b{i}" for i in range(8)],
    "deeplabv3_resnet50",
    "deeplabv3_resnet101",
    "deeplabv3_mobilenet_v3_large",
    # timm twins
    "xception",
    "inception_v4",
    "inception_resnet_v2",
    "skresnet18",
    "skresnet34",
    "skresnext50_32x4d",
    # from the papers
    "gc_resnet50",
    "oct_resnet50",
    "deeplabv3plus_resnet50",
    "igcv3",
}


def test_registry_names_and_defaults() -> None:
    expected = {
        "alexnet",
        *[f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")],
        *[f"{p}{d}" for p in ("resnet", "resnetv2_", "se_resnet") for d in (18, 34, 50, 101, 152)],
        "mobilenet_v1",
        "shufflenet_v1",
        *[f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")],
        "fcn32s",
        "fcn16s",
        "fcn8s",
        "unet",
        *SECOND_WAVE,
    }
    assert expected <= set(list_models())
    deeplabs = {n for n in SECOND_WAVE if n.startswith("deeplab")}
    segmentation = {"fcn32s", "fcn16s", "fcn8s", "unet", "unet_small", *deeplabs}
    assert set(list_models(task="segmentation")) == segmentation
    assert model_info("unet").default_input_size == (1, 572, 572)
    assert model_info("resnet50").default_input_size == (3, 224, 224)
    for name in ("inception_v3", "inception_v4", "inception_resnet_v2", "xception"):
        assert model_info(name).default_input_size == (3, 299, 299)
    assert model_info("efficientnet_b7").default_input_size == (3, 600, 600)
    with torch.device("meta"):
        assert create_model("fcn8s").score_fr.out_channels == 21  # PASCAL VOC
        assert create_model("deeplabv3_resnet50").classifier[-1].out_channels == 21
        assert create_model("unet").head.out_channels == 2
        assert create_model("unet").encoder[0][0].in_channels == 1
        assert create_model("resnet18").fc.out_features == 1000


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("resnet50", {"stride_in_3x3": True}, "unexpected option"),
        ("mobilenet_v1", {"width_mult": 0}, "width_mult must be a positive number, got 0"),
        ("shufflenet_v1", {"groups": 5}, r"groups must be one of \[1, 2, 3, 4, 8\], got 5"),
        ("se_resnet50", {"reduction": 0}, "reduction must be a positive integer, got 0"),
        ("unet", {"padding": "full"}, "padding must be one of .*got 'full'"),
        ("vgg16", {"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ("resnt50", {}, "did you mean resnet50"),
    ],
    ids=["unknown-option", "width", "groups", "reduction", "padding", "dropout", "typo"],
)
def test_bad_options_raise_value_error(name: str, kwargs: dict, message: str) -> None:
    with torch.device("meta"), pytest.raises(ValueError, match=message):
        create_model(name, **kwargs)


def test_one_dropout_argument_name_across_the_zoo() -> None:
    # torchvision's name, ``dropout``, everywhere (timm's ``drop_rate`` nowhere), and it sets
    # the probability of the model's dropout layers.
    for name in list_models():
        options = inspect.signature(model_info(name).factory).parameters
        drops = [o for o in options if "drop" in o]
        assert drops in ([], ["dropout"]), f"{name}: {drops}"
    with torch.device("meta"):
        model = create_model("digits_cnn", dropout=0.3)
    assert [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)] == [0.3]
