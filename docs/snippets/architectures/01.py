import torch
from torch import nn

from cnnlab.models import create_model


def build(name, **kwargs):
    with torch.device("meta"):
        return create_model(name, **kwargs)


def params(model):
    return sum(p.numel() for p in model.parameters())


def macs(model, size=(3, 224, 224)):
    """Multiply-adds of conv, transposed conv and linear layers for one image."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):  # weight[0] is one filter: C_in/groups * k * k
            total += output.numel() * module.weight[0].numel()
        elif isinstance(module, nn.ConvTranspose2d):
            total += inputs[0].numel() * module.weight[0].numel()
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    layers = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, layers)]
    with torch.device("meta"):
        model.eval()(torch.empty(1, *size))
    for h in handles:
        h.remove()
    return total
