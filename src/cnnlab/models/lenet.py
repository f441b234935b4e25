"""LeNet-5: LeCun, Bottou, Bengio & Haffner, "Gradient-Based Learning Applied to Document
Recognition" (Proc. IEEE 86(11), 1998), Sec. II.B and Fig. 2.

The first CNN the notes' architectures descend from: convolution, subsampling, convolution,
subsampling, then fully connected layers, on 32x32 inputs (MNIST's 28x28 digits centred in a
32x32 field). The paper's layers: C1 6@28x28 (5x5), S2 6@14x14 (2x2 subsampling), C3 16@10x10
(5x5, each map connected to a subset of S2's maps, Table I), S4 16@5x5, C5 120 (5x5 conv to 1x1),
F6 84, and a Euclidean RBF output of 10 units; scaled tanh activations; about 60,000 trainable
parameters (C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164; the RBF centres are fixed).

This is the common modern variant (as in PyTorch's and d2l's tutorials), with no batch norm:

* C3 is connected to all six S2 maps (2,416 parameters instead of the table's 1,516);
* S2 and S4 are plain 2x2 poolings without the paper's trainable coefficient and bias;
* the output is a linear layer 84 -> ``num_classes`` (850 parameters for 10) instead of the RBF;
* activations ReLU and max pooling by default (``act="tanh", pool="avg"`` is closer to 1998).

So it has 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters for 10 classes (the paper's
60,000 - 1,516 - 12 - 32 + 2,416 + 850). The paper pads the 28x28 digits to 32x32; here C1
pads by 2 (``padding=2``), which gives the same 28x28 C1 maps for a 28x28 input, and a 32x32
input can be given with ``pad_input=False`` for the paper's layout exactly.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.validate import one_of
from cnnlab.models._registry import register_model

PAPER = "LeCun, Bottou, Bengio & Haffner, Proc. IEEE 1998 (modern variant: full C3, linear output)"

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}
POOLS: dict[str, type[nn.Module]] = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """C1 conv 5x5 (6) - pool - C3 conv 5x5 (16) - pool - C5 (120) - F6 (84) - output.

    Args:
        num_classes: output classes.
        in_chans: input channels.
        act: ``"relu"`` (default) or ``"tanh"``.
        pool: ``"max"`` (default) or ``"avg"`` (the paper's subsampling without its weights).
        pad_input: pad C1 by 2 so 28x28 inputs give the paper's 28x28 C1 maps; ``False`` expects
            32x32 inputs as in the paper.

    Shape:
        input (N, in_chans, 28, 28) (``pad_input=True``) or (N, in_chans, 32, 32); C5 is a
        linear layer on S4's 16x5x5 maps, so only sides 28-31 (32-35 without padding) fit,
        others raise torch's shape error (``cnnlab train`` checks the size before training);
        output (N, num_classes).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_chans: int = 1,
        act: str = "relu",
        pool: str = "max",
        pad_input: bool = True,
    ) -> None:
        super().__init__()
        activation = ACTIVATIONS[one_of("act", act, ACTIVATIONS)]
        pooling = POOLS[one_of("pool", pool, POOLS)]
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 6, kernel_size=5, padding=2 if pad_input else 0),  # C1
            activation(),
            pooling(kernel_size=2, stride=2),  # S2
            nn.Conv2d(6, 16, kernel_size=5),  # C3
            activation(),
            pooling(kernel_size=2, stride=2),  # S4
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),  # C5
            activation(),
            nn.Linear(120, 84),  # F6
            activation(),
            nn.Linear(84, num_classes),  # output
        )
        self.num_classes = num_classes
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=5**0.5)  # torch's default, made explicit
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_chans, 28, 28) -> S4's maps (N, 16, 5, 5)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """C5, F6 and the output layer; ``pre_logits`` returns F6's activations (N, 84)."""
        x = torch.flatten(x, 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(family="lenet", default_input_size=(1, 28, 28), paper=PAPER)
def lenet5(
    num_classes: int = 10,
    in_chans: int = 1,
    act: str = "relu",
    pool: str = "max",
    pad_input: bool = True,
) -> LeNet5:
    """LeNet-5, modern variant without batch norm (61,706 parameters for 10 classes)."""
    return LeNet5(num_classes, in_chans, act, pool, pad_input)
