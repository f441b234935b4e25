# (#47-49, #112) the mask's statistics: about p of the units are dropped, the survivors scaled by
# 1 / (1 - p), so the mean is kept in training and test needs no rescaling
drop = scratch.Dropout(p=0.5, rng=1)
out = drop(np.ones(1_000_000))
print(f"dropped {np.mean(out == 0):.3f}, mean {out.mean():.3f}, variance {out.var():.3f}")
assert abs(np.mean(out == 0) - 0.5) < 0.01 and abs(out.mean() - 1) < 0.01
drop.eval()
assert np.array_equal(drop(np.ones(10)), np.ones(10))      # test: the identity
# the variance is not kept (a constant 1 gets p / (1 - p) = 1 here, 0 at test): what a BatchNorm after it sees differs
# between training and test (the experiment dropout-bn-shift)
assert abs(out.var() - 0.5 / (1 - 0.5)) < 0.01
