import torch
from torch import nn

from cnnlab.layers import DepthwiseSeparableConv, channel_shuffle
from cnnlab.models import create_model


def build(name, **kwargs):
    with torch.device("meta"):
        return create_model(name, **kwargs)


def params(model):
    return sum(p.numel() for p in model.parameters())


def macs(model, size=(3, 224, 224)):
    """Multiply-adds of conv and linear layers for one image (the papers' convention)."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):  # one filter has C_in/groups * k * k weights
            total += output.numel() * module.weight[0].numel()
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    with torch.device("meta"):
        model.eval()(torch.empty(1, *size))
    for h in handles:
        h.remove()
    return total
