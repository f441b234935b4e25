activations = {}
for name in ("resnet50", "densenet201"):
    r = summary(build(name), (3, 224, 224))
    activations[name] = r.total_activation_bytes
    print(f"{name}: {r.total_activation_bytes / 2**20:.0f} MiB of activations, "
          f"{r.total_macs / 1e9:.2f} GMACs")
assert activations["densenet201"] > 1.7 * activations["resnet50"]


def saved_mib(module, x):
    """MiB that autograd keeps for the backward pass (distinct storages, weights excluded)."""
    weights = {p.untyped_storage().data_ptr() for p in module.parameters()}
    kept = {}

    def pack(t):
        if t.untyped_storage().data_ptr() not in weights:
            kept[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x).sum().backward()
    return sum(kept.values()) / 2**20


from cnnlab.layers import DenseBlock

threads = torch.get_num_threads()
torch.set_num_threads(1)  # small tensors: one thread avoids the threads' synchronisation
torch.manual_seed(0)
x = torch.randn(2, 64, 28, 28, requires_grad=True)  # DenseNet-121's second block, 12 layers
plain = saved_mib(DenseBlock(12, 64, 4, 32), x)
lean = saved_mib(DenseBlock(12, 64, 4, 32, memory_efficient=True), x)
torch.set_num_threads(threads)
print(f"one dense block, one step: {plain:.1f} MiB saved, {lean:.1f} MiB memory-efficient")
assert lean < 0.6 * plain
