"""Intermediate feature maps of a network, by module name (for segmentation and detection)."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


class FeatureExtractor(nn.ModuleDict):
    """The children of ``model`` up to the last one in ``return_layers``, run in order.

    Works like torchvision's ``IntermediateLayerGetter``: the children keep their names, so the
    state dict is the model's (minus the layers after the last returned one) and a torchvision
    backbone's weights load unchanged. The model must run its children in registration order
    (true of ResNet's stem and stages, and of any ``nn.Sequential``).

    Args:
        model: the network; only its direct children are used.
        return_layers: ``{child name: output name}``, e.g. ``{"layer3": "aux", "layer4": "out"}``.

    Shape:
        input (N, C, H, W); output an ``OrderedDict`` of the requested maps, in model order.

    Raises:
        ValueError: a requested name is not a child of ``model``.
    """

    def __init__(self, model: nn.Module, return_layers: dict[str, str]) -> None:
        names = [name for name, _ in model.named_children()]
        missing = sorted(set(return_layers) - set(names))
        if missing:
            raise ValueError(f"return_layers {missing} are not children of the model: {names}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        wanted = set(return_layers)
        for name, module in model.named_children():
            layers[name] = module
            wanted.discard(name)
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out
