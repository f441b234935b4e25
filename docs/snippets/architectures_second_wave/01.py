import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.analysis import summary
from cnnlab.models import create_model


def build(name, **kwargs):
    with torch.device("meta"):
        return create_model(name, **kwargs)


def params(model):
    return sum(p.numel() for p in model.parameters())


def cost(model, size=(3, 224, 224)):
    """(parameters, multiply-adds) of one image; MACs of conv and linear layers."""
    report = summary(model, size)
    return report.total_params, report.total_macs
