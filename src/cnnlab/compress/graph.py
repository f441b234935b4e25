"""Which layer feeds which: a ``torch.fx`` trace of a model, shared by BN folding and pruning.

Folding a batch norm into a convolution, or removing a convolution's output channels, is only
correct when the convolution's output goes nowhere else. ``torch.fx.symbolic_trace`` records the
data flow without running the model; the zoo's channel shuffle (whose shape check would stop the
tracer) is kept as one opaque call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from torch import fx, nn

from cnnlab.layers.channel_shuffle import channel_shuffle


@dataclass
class Traced:
    """A model's graph, its modules by qualified name and how often each module is called."""

    graph: fx.Graph
    modules: dict[str, nn.Module]
    calls: Counter[str]

    def module_of(self, node: object) -> nn.Module | None:
        """The module a ``call_module`` node runs (None for anything else)."""
        if isinstance(node, fx.Node) and node.op == "call_module":
            return self.modules[str(node.target)]
        return None

    def called_once(self, node: fx.Node) -> bool:
        """Whether the node's module runs exactly once per forward (is not shared)."""
        return self.calls[str(node.target)] == 1


def trace(model: nn.Module) -> Traced:
    """Trace ``model``'s forward with ``torch.fx`` (no computation).

    Raises:
        ValueError: the forward has data-dependent control flow the tracer cannot follow.
    """
    tracer = fx.Tracer(autowrap_functions=(channel_shuffle,))
    try:
        graph = tracer.trace(model)
    except (fx.proxy.TraceError, TypeError, RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"cannot trace {type(model).__name__} with torch.fx ({first}); BN folding and "
            "pruning need to see which layer feeds which"
        ) from None
    calls = Counter(str(n.target) for n in graph.nodes if n.op == "call_module")
    return Traced(graph, dict(model.named_modules()), calls)


def replace_module(model: nn.Module, name: str, module: nn.Module) -> None:
    """Put ``module`` at the qualified ``name`` inside ``model``."""
    model.set_submodule(name, module)
