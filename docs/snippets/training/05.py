import math

from cnnlab.train.schedule_plot import lr_curve

lrs = lr_curve("cosine", epochs=4, steps_per_epoch=10, lr=0.1, warmup_epochs=1)
assert lrs[0] == 0.1 * 0.01                       # the warmup starts at 1% of the lr
assert math.isclose(lrs[10], 0.1)                 # then cosine over the remaining 3 epochs
assert math.isclose(lrs[25], 0.1 * (1 + math.cos(math.pi * 15 / 30)) / 2)
