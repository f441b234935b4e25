import torch
from torch import nn

from cnnlab.analysis import summary

net = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    nn.Flatten(), nn.Linear(32, 10),
)
report = summary(net, (3, 32, 32))
print(report)  # a table: shapes, params, MACs, FLOPs, activations, receptive field per layer
assert report.total_params == sum(p.numel() for p in net.parameters())
