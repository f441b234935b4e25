torch.manual_seed(0)
detector = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
    weights=None, weights_backbone=None, min_size=96, max_size=96,
    rpn_pre_nms_top_n_test=20, rpn_post_nms_top_n_test=10,
).eval()
det = summary(detector, (3, 96, 96))
print(det.notes[0])  # ran on the CPU: op 'nonzero' in layer 'rpn' ... cannot run on the meta device
assert det.device == "cpu" and det["rpn"].data_dependent and det.partial
assert not det["backbone"].data_dependent
backbone = summary(detector.backbone, (3, 96, 96))  # the fixed part, on the meta device
assert backbone.device == "meta" and not backbone.partial
