from cnnlab.data.transforms.elastic import elastic_deform, elastic_field

scene = make_scenes(1, image_size=48, seed=2, split="val")
coarse = torch.randn(2, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4
field = elastic_field(coarse, (48, 48))
warped_mask = elastic_deform(scene.masks[0], field, interpolation="nearest")
assert set(warped_mask.unique().tolist()) <= set(scene.masks[0].unique().tolist())  # no new class
assert torch.equal(elastic_deform(scene.masks[0], torch.zeros(2, 48, 48)), scene.masks[0])
