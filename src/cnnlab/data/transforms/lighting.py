"""AlexNet's "fancy PCA" lighting: colour noise along the principal components of the RGB pixels.

Krizhevsky, Sutskever & Hinton (NIPS 2012), Sec. 4.1: perform PCA on the RGB pixel values over the
training set; to each training image add multiples of the principal components, with magnitudes
proportional to the eigenvalues times a Gaussian of mean 0 and standard deviation 0.1:

    I_xy += [p1, p2, p3] @ [a1 * l1, a2 * l2, a3 * l3]^T,   a_i ~ N(0, 0.1^2), drawn per image,

the same vector added to every pixel of the image. It models that object identity does not
change with the intensity and colour of the illumination. torchvision has no such transform
(its ``ColorJitter`` perturbs brightness, contrast, saturation and hue independently), so it is
written here on ``torchvision.transforms.v2``: :func:`fit_pca_lighting` fits the components,
:class:`PCALighting` applies them. It acts on float images in [0, 1], before normalisation (as
fb.resnet.torch does), and leaves masks and labels untouched.
"""

from __future__ import annotations

from typing import Any

import PIL.Image
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2.functional import is_pure_tensor

from cnnlab.core.validate import number


def fit_pca_lighting(images: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigen-decomposition of the per-pixel colour covariance over a set of images.

    Every pixel of every image is one sample of a C-vector (C = 3 for RGB); the covariance is the
    unbiased one (``np.cov``'s), accumulated in float64 chunk by chunk.

    Args:
        images: float images in [0, 1].
        chunk: images per accumulation step (memory only; the result does not depend on it).

    Returns:
        ``(eigval, eigvec)`` in float64: eigenvalues (C,) in descending order and the unit
        eigenvectors as the columns of (C, C), ``eigvec[:, i]`` belonging to ``eigval[i]``; each
        eigenvector's largest-magnitude component is made positive (the sign of an eigenvector
        is arbitrary).

    Shape:
        images: (N, C, H, W) with N * H * W >= 2.

    Raises:
        ValueError: not a 4-D floating tensor, or fewer than 2 pixels.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a float tensor (N, C, H, W) in [0, 1], got {shape}")
    n_pixels = images.shape[0] * images.shape[2] * images.shape[3]
    if n_pixels < 2:
        raise ValueError(f"a covariance needs at least 2 pixels, got {n_pixels}")
    c = images.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    outer = torch.zeros(c, c, dtype=torch.float64)
    shift = images[0, :, 0, 0].to(torch.float64)  # centre on one pixel: no cancellation
    for part in images.split(chunk):
        x = part.to(torch.float64).transpose(0, 1).reshape(c, -1) - shift[:, None]
        total += x.sum(dim=1)
        outer += x @ x.T
    mean = total / n_pixels
    cov = (outer - n_pixels * torch.outer(mean, mean)) / (n_pixels - 1)
    eigval, eigvec = torch.linalg.eigh(cov)  # ascending
    eigval, eigvec = eigval.flip(0), eigvec.flip(1)
    biggest = eigvec.abs().argmax(dim=0)
    signs = torch.sign(eigvec[biggest, torch.arange(c)])
    return eigval, eigvec * signs


def pca_lighting_shift(
    eigval: torch.Tensor, eigvec: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """The colour vector added to every pixel: ``eigvec @ (alpha * eigval)``.

    Shape:
        eigval (C,), eigvec (C, C) with eigenvectors as columns, alpha (C,); returns (C,).
    """
    return eigvec @ (alpha * eigval)


class PCALighting(v2.Transform):
    """Add ``eigvec @ (alpha * eigval)`` to every pixel, ``alpha ~ N(0, std^2)`` per image.

    ``alpha`` is drawn as ``std * torch.randn(C)`` from torch's global generator (seed it with
    ``torch.manual_seed``), once per call: the images of one sample (there is normally one)
    get the same vector. Masks, boxes and labels pass through unchanged.

    Args:
        eigval: eigenvalues (C,), as :func:`fit_pca_lighting` returns.
        eigvec: eigenvectors as columns (C, C).
        std: standard deviation of ``alpha`` (AlexNet: 0.1); 0 disables the transform.

    Shape:
        images (..., C, H, W) floating, in [0, 1] units; output the same shape and dtype
        (not clamped, as in AlexNet).
    """

    _transformed_types = (tv_tensors.Image, is_pure_tensor, PIL.Image.Image)

    def __init__(self, eigval: torch.Tensor, eigvec: torch.Tensor, std: float = 0.1) -> None:
        super().__init__()
        eigval = torch.as_tensor(eigval, dtype=torch.float64)
        eigvec = torch.as_tensor(eigvec, dtype=torch.float64)
        c = eigval.numel()
        if eigval.shape != (c,) or eigvec.shape != (c, c) or c == 0:
            raise ValueError(
                "eigval must have shape (C,) and eigvec (C, C), got "
                f"{tuple(eigval.shape)} and {tuple(eigvec.shape)}"
            )
        if not (torch.isfinite(eigval).all() and torch.isfinite(eigvec).all()):
            raise ValueError("eigval and eigvec must be finite")
        self.eigval = eigval
        self.eigvec = eigvec
        self.std = number("pca_lighting", std, minimum=0)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        alpha = self.std * torch.randn(self.eigval.numel(), dtype=torch.float64)
        return {"shift": pca_lighting_shift(self.eigval, self.eigvec, alpha)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not isinstance(inpt, torch.Tensor) or not inpt.is_floating_point():
            raise ValueError(
                "PCALighting works on float images in [0, 1]; convert with "
                f"v2.ToImage() and v2.ToDtype(torch.float32, scale=True) first (got "
                f"{getattr(inpt, 'dtype', type(inpt).__name__)})"
            )
        c = inpt.shape[-3]
        if c != self.eigval.numel():
            raise ValueError(
                f"PCALighting was fitted on {self.eigval.numel()} channels, got an image with {c}"
            )
        shift = params["shift"].to(dtype=inpt.dtype, device=inpt.device)
        out = inpt + shift.view(c, 1, 1)
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, tv_tensors.Image) else out

    def extra_repr(self) -> str:
        return f"std={self.std:g}, eigval={[round(v, 6) for v in self.eigval.tolist()]}"
