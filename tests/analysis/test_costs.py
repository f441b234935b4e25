"""Parameters and MACs against torchvision's published metadata, fvcore, and hand arithmetic."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import get_model_weights

from cnnlab.analysis import summary

TORCHVISION = [
    "alexnet",
    "vgg16",
    "resnet50",
    "mobilenet_v2",
    "shufflenet_v2_x1_0",
    "googlenet",
    "densenet121",
]
# GoogLeNet's published weights have no auxiliary heads.
OPTIONS = {"googlenet": {"aux_logits": False, "init_weights": False}}


def _meta_model(name: str) -> nn.Module:
    with torch.device("meta"):
        return torchvision.models.get_model(name, weights=None, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", TORCHVISION)
def test_macs_and_params_match_torchvision_metadata(name: str) -> None:
    meta = get_model_weights(name).DEFAULT.meta
    model = _meta_model(name)
    report = summary(model, (3, 224, 224))
    # torchvision's "_ops" is GFLOPS in the papers' sense: multiply-accumulates, 3 decimals.
    assert round(report.total_macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9)
    assert report.total_params == meta["num_params"] == sum(p.numel() for p in model.parameters())
    assert not report.partial


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("efficientnet_b0", 224),  # squeeze-excitation, SiLU, stochastic depth
        ("mobilenet_v3_large", 224),  # hard-swish, SE through expand
        ("convnext_tiny", 224),  # channels-last permutes, LayerNorm, Linear on 4-D tensors
        ("vit_b_16", 224),  # attention
        ("swin_t", 224),  # shifted windows: rolls, masks, padding
        ("regnet_y_400mf", 224),  # group convs + SE
        ("inception_v3", 299),  # branches, concatenation
        ("squeezenet1_0", 224),
    ],
    ids=lambda v: str(v),
)
def test_macs_match_torchvision_metadata_beyond_the_seven(name: str, size: int) -> None:
    meta = get_model_weights(name).DEFAULT.meta
    try:
        model = _meta_model(name)
    except NotImplementedError:  # RegNet computes its widths with real tensors
        model = torchvision.models.get_model(name, weights=None)
    report = summary(model, (3, size, size))
    assert round(report.total_macs / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9)
    assert not report.partial


@pytest.mark.slow
@pytest.mark.parametrize("name", TORCHVISION)
def test_conv_and_linear_macs_equal_fvcore(name: str) -> None:
    from fvcore.nn import FlopCountAnalysis

    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None, **OPTIONS.get(name, {})).eval()
    size = (3, 64, 64)
    analysis = FlopCountAnalysis(model, torch.zeros(1, *size))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    by_op = analysis.by_operator()  # fvcore counts one "flop" per multiply-accumulate
    expected = by_op["conv"] + by_op.get("linear", 0) + by_op.get("addmm", 0)
    report = summary(model, size)
    assert report.total_macs == expected
    assert report.total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("stride", "padding", "groups"),
    [(1, 0, 1), (2, 1, 1), (2, 1, 2), (3, 0, 4)],
    ids=["s1", "s2-p1", "s2-p1-g2", "s3-g4"],
)
def test_transposed_conv_counted_at_input_resolution(
    stride: int, padding: int, groups: int
) -> None:
    from fvcore.nn import FlopCountAnalysis

    model = nn.ConvTranspose2d(8, 12, 4, stride=stride, padding=padding, groups=groups)
    size = (8, 7, 5)
    # Each input pixel is scattered once: C_in * H_in * W_in * (C_out / g) * kh * kw.
    by_hand = 8 * 7 * 5 * (12 // groups) * 4 * 4
    fv = FlopCountAnalysis(model, torch.zeros(1, *size)).by_operator()["conv"]
    report = summary(model, size)
    assert report.total_macs == by_hand == fv


def test_notes_formula_with_bias_counting() -> None:
    # The notes: a conv layer with n filters of h x w x c has n(hwc + 1) parameters and
    # costs H'W'n(hwc + 1) when the bias addition counts as one multiply-accumulate.
    c, n, h, w = 16, 32, 3, 5
    layer = nn.Conv2d(c, n, (h, w), stride=2)
    size = (c, 31, 29)
    out_h, out_w = (31 - h) // 2 + 1, (29 - w) // 2 + 1
    with_bias = summary(layer, size, count_bias=True)
    without = summary(layer, size)
    assert with_bias.total_params == n * (h * w * c + 1)
    assert with_bias.total_macs == out_h * out_w * n * (h * w * c + 1)
    assert without.total_macs == out_h * out_w * n * h * w * c
    assert without.total_flops == 2 * without.total_macs + out_h * out_w * n


def test_depthwise_separable_and_group_conv_params() -> None:
    # The notes (MobileNet): 16 -> 32 channels, 3x3 depthwise + 1x1 pointwise = 656 params.
    separable = nn.Sequential(
        nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.Conv2d(16, 32, 1, bias=False)
    )
    assert summary(separable, (16, 8, 8)).total_params == 3 * 3 * 16 + 16 * 32 == 656
    # The notes: 256 -> 256 channels, 3x3: group conv with g = 8 has 1/8 of the parameters.
    dense = summary(nn.Conv2d(256, 256, 3, bias=False), (256, 9, 9))
    grouped = summary(nn.Conv2d(256, 256, 3, groups=8, bias=False), (256, 9, 9))
    assert dense.total_params == 256 * 3 * 3 * 256 == 8 * grouped.total_params
    assert dense.total_macs == 8 * grouped.total_macs


def test_elementwise_flops_follow_the_stated_convention() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)
    )
    report = summary(model, (3, 10, 10))
    conv, bn, relu, pool = report.rows
    assert conv.macs == 4 * 8 * 8 * 3 * 9 and conv.flops == 2 * conv.macs
    assert bn.flops == 2 * 4 * 8 * 8  # eval: folded scale and shift
    assert relu.flops == 4 * 8 * 8
    assert pool.flops == (2 * 2 - 1) * 4 * 4 * 4  # comparisons per output
    # training: statistics too, plus the one addition of num_batches_tracked += 1
    assert summary(model, (3, 10, 10), mode="train")["1"].flops == 4 * 4 * 8 * 8 + 1


def test_matmul_and_attention_count_macs() -> None:
    class Attention(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            q = x.flatten(2).transpose(1, 2)  # (1, L, C)
            return torch.nn.functional.scaled_dot_product_attention(q, q, q)

    report = summary(Attention(), (8, 4, 5))
    length, dim = 20, 8
    assert report.total_macs == 2 * length * length * dim  # QK^T and AV


class Norms(nn.Module):
    """Ops with no multiply-accumulate that made reports falsely partial (issue 18): vector
    norms, repeat, split, cumulative sums, unfold/fold, random numbers, max unpooling."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.nn.functional.normalize(self.conv(x), dim=1)  # linalg_vector_norm
        y = y + torch.randn_like(y) * 0.0 + y.cumsum(3)
        a, b = y.split(2, dim=1)
        y = torch.cat([a, b.repeat(1, 1, 1, 1)], 1)
        cols = torch.nn.functional.unfold(y, 2, stride=2)  # im2col
        y = torch.nn.functional.fold(cols, y.shape[-2:], 2, stride=2)  # col2im
        pooled, indices = self.pool(y)
        return self.unpool(pooled, indices)


def test_ops_without_multiply_accumulates_are_known() -> None:
    report = summary(Norms(), (4, 8, 8))
    assert not report.partial, report.uncounted
    assert report.total_macs == 4 * 64 * 36  # the convolution only
    assert report.total_flops > 2 * report.total_macs


@pytest.mark.parametrize(
    ("layer", "gates"), [(nn.LSTM, 4), (nn.GRU, 3), (nn.RNN, 1)], ids=["lstm", "gru", "rnn"]
)
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrent_macs_follow_the_sequence_length(layer, gates: int, layers: int) -> None:
    # The notes' count per step: gates x hidden x (input + hidden); layer 2 reads the hidden.
    steps, features, hidden = 5, 8, 16
    model = layer(features, hidden, num_layers=layers, batch_first=True)
    report = summary(model, (steps, features))
    by_hand = steps * gates * hidden * (features + hidden)
    by_hand += (layers - 1) * steps * gates * hidden * (hidden + hidden)
    assert report.total_macs == by_hand and not report.partial
    assert summary(model, (2 * steps, features)).total_macs == 2 * by_hand


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.MultiheadAttention(16, 4, batch_first=True),
        lambda: nn.TransformerEncoderLayer(16, 4, 32, batch_first=True),
    ],
    ids=["multi-head-attention", "encoder-layer"],
)
def test_fused_inference_paths_count_what_the_decomposition_counts(make) -> None:
    # On the CPU in eval mode these run as one fused op each; on meta they decompose.
    torch.manual_seed(0)
    model = make().eval()

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.inner(x, x, x) if isinstance(model, nn.MultiheadAttention) else model(x)
            return out[0] if isinstance(out, tuple) else out

    wrapped = SelfAttention()
    meta = summary(wrapped, (6, 16))
    cpu = summary(wrapped, (6, 16), device="cpu")
    assert cpu.total_macs == meta.total_macs and not cpu.partial
    L, E = 6, 16
    attention = 4 * L * E * E + 2 * L * L * E  # q, k, v, out projections; QK^T and AV
    ffn = 2 * L * E * 32
    assert meta.total_macs == attention + (
        ffn if isinstance(model, nn.TransformerEncoderLayer) else 0
    )


def _meta_case(name: str):
    x = torch.empty(2, 8, 10, 12, device="meta")
    w = torch.empty(6, 4, 3, 3, device="meta")
    cases = {
        "conv": (
            torch.ops.aten.convolution.default,
            (x, w, None, [2, 1], [1, 0], [1, 2], False, [0, 0], 2),
        ),
        "conv-transposed": (
            torch.ops.aten.convolution.default,
            (
                x,
                torch.empty(8, 3, 3, 3, device="meta"),
                None,
                [2, 2],
                [1, 1],
                [1, 1],
                True,
                [1, 0],
                2,
            ),
        ),
        "add-broadcast": (torch.ops.aten.add.Tensor, (x, torch.empty(8, 1, 1, device="meta"))),
        "mul-scalar": (torch.ops.aten.mul.Tensor, (x, 0.5)),
        "relu-inplace": (torch.ops.aten.relu_.default, (x,)),
        "batch-norm": (
            torch.ops.aten.native_batch_norm.default,
            (
                x,
                None,
                None,
                torch.empty(8, device="meta"),
                torch.empty(8, device="meta"),
                False,
                0.1,
                1e-5,
            ),
        ),
        "mean-keepdim": (torch.ops.aten.mean.dim, (x, [2, 3], True)),
        "sum": (torch.ops.aten.sum.dim_IntList, (x, [-1])),
    }
    return cases[name]


@pytest.mark.parametrize(
    "name",
    ["conv", "conv-transposed", "add-broadcast", "mul-scalar", "relu-inplace", "batch-norm",
     "mean-keepdim", "sum"],
)  # fmt: skip
def test_meta_shortcuts_agree_with_torch_meta_kernels(name: str) -> None:
    from cnnlab.analysis.op_calls import op_name
    from cnnlab.analysis.op_table import OPS

    func, args = _meta_case(name)
    entry = OPS[op_name(func)]
    shortcut = entry.meta(args, func.overloadpacket.__name__.endswith("_"))
    expected = func(*args)
    got = shortcut if isinstance(shortcut, tuple) else (shortcut,)
    want = expected if isinstance(expected, tuple) else (expected,)
    assert [(t.shape, t.dtype, t.stride()) for t in got] == [
        (t.shape, t.dtype, t.stride()) for t in want
    ]
    channels_last = args[0].to(memory_format=torch.channels_last)
    assert entry.meta((channels_last, *args[1:]), False) is None  # not dense: torch decides
