from cnnlab.models import create_model, list_models

print(list_models(task="detection"))
torch.manual_seed(0)
model = create_model(
    "retinanet_resnet18_fpn", num_classes=11, in_chans=1, min_size=64, max_size=64, score_thresh=0.005
)
images = [torch.rand(1, 64, 64), torch.rand(1, 48, 64)]
targets = [
    {"boxes": torch.tensor([[8.0, 10.0, 30.0, 50.0]]), "labels": torch.tensor([3])},
    {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)},  # no objects
]
losses = model.train()(images, targets)
print({k: round(v.item(), 3) for k, v in losses.items()})  # focal loss and L1 box loss
with torch.no_grad():
    detections = model.eval()(images)
print([d["boxes"].shape for d in detections])  # untrained: scores near the prior 0.01
try:
    model.train()(images[:1], [{"boxes": torch.tensor([[5.0, 5, 5, 9]]), "labels": torch.tensor([1])}])
except ValueError as err:
    print(err)  # targets[0]['boxes'][0] = [5.0, 5.0, 5.0, 9.0] has width 0; ...
