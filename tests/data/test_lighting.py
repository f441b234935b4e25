"""AlexNet's PCA lighting: the fit against NumPy's covariance and eigh, the shift by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision import tv_tensors

from cnnlab.core.validate import InvalidArgument
from cnnlab.data.transforms import PCALighting, fit_pca_lighting, pca_lighting_shift


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    """Correlated colours, as in photos: a shared brightness plus per-channel noise."""
    g = torch.Generator().manual_seed(0)
    base = torch.rand(40, 1, 9, 7, generator=g)
    return (
        0.6 * base
        + 0.4
        * torch.rand(40, 3, 9, 7, generator=g)
        * torch.tensor([1.0, 0.5, 0.2]).view(1, 3, 1, 1)
    ).clamp(0, 1)


def test_fit_equals_numpy_cov_and_eigh(images: torch.Tensor) -> None:
    pixels = images.numpy().astype(np.float64).transpose(1, 0, 2, 3).reshape(3, -1)
    values, vectors = np.linalg.eigh(np.cov(pixels))  # ascending
    values, vectors = values[::-1], vectors[:, ::-1]
    eigval, eigvec = fit_pca_lighting(images, chunk=7)
    assert eigval.dtype == eigvec.dtype == torch.float64
    np.testing.assert_allclose(eigval.numpy(), values, rtol=1e-10)
    assert (np.diff(eigval.numpy()) < 0).all()  # descending
    for i in range(3):  # columns, up to the sign of each
        dot = float(np.dot(eigvec[:, i].numpy(), vectors[:, i]))
        assert abs(abs(dot) - 1) < 1e-10
        assert eigvec[:, i].abs().argmax() == eigvec[:, i].argmax()  # largest component > 0
    # the eigen-equation itself
    cov = torch.from_numpy(np.cov(pixels))
    torch.testing.assert_close(cov @ eigvec, eigvec * eigval, rtol=1e-10, atol=1e-12)


def test_fit_does_not_depend_on_the_chunk(images: torch.Tensor) -> None:
    a, va = fit_pca_lighting(images, chunk=1)
    b, vb = fit_pca_lighting(images, chunk=1000)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(va, vb, rtol=1e-9, atol=1e-12)


def test_added_vector_is_eigvec_times_alpha_eigval_for_a_seeded_alpha(images) -> None:
    eigval, eigvec = fit_pca_lighting(images)
    lighting = PCALighting(eigval, eigvec, std=0.1)
    image = images[0]
    torch.manual_seed(7)
    out = lighting(tv_tensors.Image(image))
    torch.manual_seed(7)
    alpha = 0.1 * torch.randn(3, dtype=torch.float64)  # the documented draw
    # AlexNet's formula by hand, in NumPy: [p1 p2 p3] [a1 l1, a2 l2, a3 l3]^T
    p, lam, a = eigvec.numpy(), eigval.numpy(), alpha.numpy()
    shift = sum(p[:, i] * (a[i] * lam[i]) for i in range(3))
    added = (out - image).numpy()
    assert isinstance(out, tv_tensors.Image)
    for c in range(3):  # the same vector at every pixel
        np.testing.assert_allclose(added[c], shift[c], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(pca_lighting_shift(eigval, eigvec, alpha), torch.from_numpy(shift))


def test_alpha_has_the_given_standard_deviation(images) -> None:
    eigval, eigvec = fit_pca_lighting(images)
    lighting = PCALighting(eigval, eigvec, std=0.1)
    torch.manual_seed(0)
    zero = torch.zeros(3, 1, 1, dtype=torch.float64)
    shifts = torch.stack([lighting(zero)[:, 0, 0] for _ in range(4000)])
    alphas = (shifts @ eigvec) / eigval  # eigvec is orthonormal: alpha = P^T s / lambda
    assert alphas.mean(0).abs().max() < 5 * 0.1 / 4000**0.5
    assert ((alphas.std(0) - 0.1).abs() < 0.1 * 0.06).all()


def test_masks_pass_and_zero_std_is_the_identity(images) -> None:
    eigval, eigvec = fit_pca_lighting(images)
    mask = tv_tensors.Mask(torch.randint(0, 4, (9, 7)))
    image = tv_tensors.Image(images[1])
    out, same_mask = PCALighting(eigval, eigvec, std=0.1)(image, mask)
    assert same_mask is mask
    out, _ = PCALighting(eigval, eigvec, std=0.0)(image, mask)
    torch.testing.assert_close(out, image, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda l: l(torch.zeros(1, 4, 4)), "fitted on 3 channels, got an image with 1"),
        (lambda l: l(torch.zeros(3, 4, 4, dtype=torch.uint8)), "works on float images"),
    ],
    ids=["channels", "uint8"],
)
def test_bad_images_are_refused(images, call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call(PCALighting(*fit_pca_lighting(images)))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"float tensor \(N, C, H, W\)"):
        fit_pca_lighting(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="eigval must have shape"):
        PCALighting(torch.ones(3), torch.eye(2))
    with pytest.raises(InvalidArgument, match="pca_lighting must be a finite number >= 0"):
        PCALighting(torch.ones(3), torch.eye(3), std=-1)
