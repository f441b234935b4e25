from cnnlab.data.scenes import make_scenes
from cnnlab.demos.segmentation import best_at_stride

masks = make_scenes(8, image_size=128, seed=3, split="val").masks
for stride in (32, 16, 8):
    acc = sum(float((best_at_stride(m, stride) == m).double().mean()) for m in masks) / len(masks)
    print(f"stride {stride:2d}: best pixel accuracy {acc:.3f}")
accs = {s: sum(float((best_at_stride(m, s) == m).double().mean()) for m in masks) for s in (32, 8)}
assert accs[8] > accs[32]  # finer outputs can be more right
