bn.eval()
single = bn(x[:1])
batch = bn(x)
assert np.allclose(single, batch[:1])            # eval: independent of the batch
bn.train()
assert not np.allclose(bn(x[:2])[:1], bn(x)[:1])   # train: depends on the batch
