from torchvision.ops import masks_to_boxes

scenes = make_scenes(4, image_size=64, max_digits=4, split="val", seed=0)
print(scenes.labels[0].tolist(), scenes.boxes[0].tolist())
k = len(scenes.labels[0])
per_instance = torch.stack([scenes.instances[0] == j + 1 for j in range(k)])
assert torch.equal(scenes.boxes[0], masks_to_boxes(per_instance) + torch.tensor([0, 0, 1, 1]))
assert scenes.multihot[0].nonzero().flatten().tolist() == sorted({d - 1 for d in scenes.labels[0].tolist()})
