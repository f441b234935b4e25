"""BoxRegressor: the closed-form ridge of R-CNN against scikit-learn, and that it helps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torchvision.ops as tv
from sklearn.linear_model import LinearRegression, Ridge
from torchvision.models.detection._utils import BoxCoder

from cnnlab.detection import BoxRegressor

BoxMaker = Callable[..., torch.Tensor]


def _problem(
    random_boxes: BoxMaker, n: int, d_noise: int, seed: int, feature_noise: float = 0.05
) -> tuple[np.ndarray, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Proposals jittered around ground truth; features = true targets + noise + distractors."""
    gt = random_boxes(n, seed, min_side=20.0, max_side=120.0)
    g = torch.Generator().manual_seed(seed + 100)
    w = (gt[:, 2:] - gt[:, :2]).repeat(1, 2)
    proposals = gt + (torch.rand(n, 4, generator=g, dtype=torch.float64) - 0.5) * 0.5 * w
    targets = BoxCoder((1.0, 1.0, 1.0, 1.0)).encode_single(gt, proposals)  # the reference coder
    rng = np.random.default_rng(seed)
    informative = targets.numpy() + feature_noise * rng.standard_normal((n, 4))
    features = np.concatenate([informative, rng.standard_normal((n, d_noise))], axis=1)
    return features, proposals, gt, targets


@pytest.mark.parametrize(
    "n,d,alpha",
    [(300, 12, 1000.0), (300, 12, 1.0), (40, 100, 10.0)],
    ids=["N300-D16-a1000", "N300-D16-a1", "N40-D104-dual"],
)
def test_matches_sklearn_ridge(random_boxes: BoxMaker, n: int, d: int, alpha: float) -> None:
    x, proposals, gt, targets = _problem(random_boxes, n, d, seed=20)
    ours = BoxRegressor(alpha=alpha).fit(x, proposals, gt)
    ref = Ridge(alpha=alpha, fit_intercept=True, solver="cholesky").fit(x, targets.numpy())
    np.testing.assert_allclose(ours.coef_.numpy(), ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_.numpy(), ref.intercept_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        ours.predict_deltas(x).numpy(), ref.predict(x), rtol=1e-8, atol=1e-10
    )


def test_alpha_zero_is_least_squares(random_boxes: BoxMaker) -> None:
    x, proposals, gt, targets = _problem(random_boxes, 200, 6, seed=21)
    ours = BoxRegressor(alpha=0).fit(x, proposals, gt)
    ref = LinearRegression().fit(x, targets.numpy())
    np.testing.assert_allclose(ours.coef_.numpy(), ref.coef_, rtol=1e-8, atol=1e-10)


def test_intercept_is_not_penalised(random_boxes: BoxMaker) -> None:
    # with an enormous lambda every weight vanishes, but the intercept still is the mean target
    x, proposals, gt, targets = _problem(random_boxes, 150, 5, seed=22)
    ours = BoxRegressor(alpha=1e12).fit(x, proposals, gt)
    assert ours.coef_.abs().max() < 1e-8
    np.testing.assert_allclose(ours.intercept_.numpy(), targets.numpy().mean(0), atol=1e-9)


def test_weights_scale_targets_like_boxcoder(random_boxes: BoxMaker) -> None:
    x, proposals, gt, _ = _problem(random_boxes, 100, 3, seed=23)
    weights = (10.0, 10.0, 5.0, 5.0)
    targets = BoxCoder(weights).encode_single(gt, proposals).numpy()
    ours = BoxRegressor(alpha=3.0, weights=weights).fit(x, proposals, gt)
    ref = Ridge(alpha=3.0).fit(x, targets)
    np.testing.assert_allclose(ours.coef_.numpy(), ref.coef_, rtol=1e-8, atol=1e-10)
    # ridge is linear in the targets and predict divides the weights out again: same boxes
    plain = BoxRegressor(alpha=3.0).fit(x, proposals, gt)
    torch.testing.assert_close(ours.predict(x, proposals), plain.predict(x, proposals))


def test_regression_raises_mean_iou(random_boxes: BoxMaker) -> None:
    x, proposals, gt, _ = _problem(random_boxes, 600, 20, seed=24)
    train, test = slice(0, 400), slice(400, 600)
    reg = BoxRegressor(alpha=1.0).fit(x[train], proposals[train], gt[train])
    boxes = reg.predict(x[test], proposals[test])
    before = tv.box_iou(proposals[test], gt[test]).diagonal().mean().item()
    after = tv.box_iou(boxes, gt[test]).diagonal().mean().item()
    message = f"mean IoU with ground truth: proposals {before:.3f}, regressed {after:.3f}"
    assert after > 0.8 and after > before + 0.15, message


def test_noise_free_features_recover_ground_truth(random_boxes: BoxMaker) -> None:
    x, proposals, gt, _ = _problem(random_boxes, 200, 5, seed=27, feature_noise=0.0)
    reg = BoxRegressor(alpha=1e-6).fit(x[:150], proposals[:150], gt[:150])
    after = tv.box_iou(reg.predict(x[150:], proposals[150:]), gt[150:]).diagonal()
    assert after.min() > 0.999, f"worst IoU {after.min().item():.6f}"


def test_numpy_in_numpy_out_tensor_in_tensor_out(random_boxes: BoxMaker) -> None:
    x, proposals, gt, _ = _problem(random_boxes, 80, 3, seed=25)
    reg = BoxRegressor(alpha=5.0).fit(torch.from_numpy(x).float(), proposals.float(), gt.float())
    ref = BoxRegressor(alpha=5.0).fit(x, proposals.numpy(), gt.numpy())
    out_np = ref.predict(x, proposals.numpy())
    out_t = reg.predict(torch.from_numpy(x).float(), proposals.float())
    assert isinstance(out_np, np.ndarray) and out_np.dtype == np.float64
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float32
    np.testing.assert_allclose(out_t.numpy(), out_np, rtol=1e-4, atol=1e-3)


def test_bad_inputs(random_boxes: BoxMaker) -> None:
    x, proposals, gt, _ = _problem(random_boxes, 30, 2, seed=26)
    with pytest.raises(ValueError, match=r"alpha .* >= 0, got -1"):
        BoxRegressor(alpha=-1.0)
    with pytest.raises(ValueError, match="not fitted yet"):
        BoxRegressor().predict(x, proposals)
    with pytest.raises(ValueError, match="features and proposals must have the same length"):
        BoxRegressor().fit(x[:10], proposals, gt)
    with pytest.raises(ValueError, match="proposals and gt_boxes must have the same length"):
        BoxRegressor().fit(x, proposals, gt[:5])
    bad = gt.clone()
    bad[3, 2] = bad[3, 0] - 1
    with pytest.raises(ValueError, match=r"gt_boxes\[3\]"):
        BoxRegressor().fit(x, proposals, bad)
    x_nan = x.copy()
    x_nan[2, 1] = np.nan
    with pytest.raises(ValueError, match="features must be finite"):
        BoxRegressor().fit(x_nan, proposals, gt)
    reg = BoxRegressor().fit(x, proposals, gt)
    with pytest.raises(ValueError, match="4 columns, but the regressor was fitted on 6"):
        reg.predict(x[:, :4], proposals)
