dense = summary(build("densenet121"), (3, 224, 224))
block, last = dense["features.denseblock1"], dense["features.denseblock1.denselayer6"]
print("dense block 1:", block.receptive_field.size, "its last layer:", last.receptive_field.size)
assert block.rf_size == last.rf_size
gc = summary(build("gc_resnet50"), (3, 224, 224))
field = gc["layer2.0"].receptive_field
print("GC-ResNet-50 after its first context block:", field.size, "jump", field.jump)
assert gc["layer2.0"].rf_jump == (0, 0) and gc.field_of("", (0, 0)).clipped == ((0, 223), (0, 223))
