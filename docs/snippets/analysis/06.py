conv5_3, pool5 = vgg["features.28"], vgg["features.30"]
print(conv5_3.rf_size, conv5_3.rf_jump, conv5_3.rf_start)
assert conv5_3.rf_size == (196, 196) and pool5.rf_size == (212, 212)
box = vgg.field_of("features.28", (7, 7))
print(box.lo, box.hi, box.clipped)
assert box.size == (196, 196) and box.clipped == ((22, 217), (22, 217))
