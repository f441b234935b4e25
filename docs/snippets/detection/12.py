from cnnlab.analysis import summary

with torch.device("meta"):
    frcnn = create_model("fasterrcnn_resnet18_fpn", num_classes=11, in_chans=1)
report = summary(frcnn, (1, 128, 128), depth=1)
for row in report.layers:
    print(f"{row.name:10s} {row.params:>10,} params {row.macs / 1e6:7.1f}M MACs  {row.output_shape}")
# the box head on 300 proposals: fc6 (64 x 7 x 7 -> 256), fc7, 11 scores and 44 offsets
assert report["roi_heads"].macs == 300 * (64 * 49 * 256 + 256 * 256 + 256 * (11 + 44))
