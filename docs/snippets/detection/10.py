from cnnlab.detection import AnchorGenerator, octave_sizes

retina = model.anchor_generator
print(retina.sizes[:3])  # P3, P4, P5: ((24.0, 30.0, 38.0), (48.0, 60.0, 76.0), (96.0, 120.0, 152.0))
assert retina.num_anchors_per_location() == [9, 9, 9, 9, 9]
frcnn = create_model("fasterrcnn_resnet18_fpn").rpn.anchor_generator
assert frcnn.num_anchors_per_location() == [3, 3, 3, 3, 3]
print(frcnn.sizes)  # ((16.0,), (32.0,), ..., (256.0,)): one size per level, P2 ... P6
