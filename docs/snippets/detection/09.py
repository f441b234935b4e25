import torchvision

with torch.device("meta"):  # shapes only: instant, no memory
    theirs = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    ours = create_model("fasterrcnn_resnet50_fpn")
assert list(ours.state_dict()) == list(theirs.state_dict())
assert all(a.shape == b.shape for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))
