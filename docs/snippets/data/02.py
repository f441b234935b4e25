import torch
from cnnlab.data.arrays import load_raw

raw = load_raw("mnist5k")
train = raw.images[raw.train_idx]
assert np.isclose(raw.mean[0], train.mean()) and np.isclose(raw.std[0], train.std())

bundle = load_dataset("mnist5k")
pre = bundle.preprocess                        # Preprocess(image_size=(28, 28), mean=(0.131...,), std=(0.308...,))
x_val = bundle.val.tensors[0]
expected = (raw.images[raw.val_idx] - raw.mean[0]) / raw.std[0]
assert np.allclose(x_val.numpy(), expected, atol=1e-6)
assert abs(float(bundle.train.tensors[0].mean())) < 1e-5   # training images: mean 0, std 1

one_file = pre.transform()                     # PIL image or tensor -> network input
assert torch.allclose(one_file(torch.from_numpy(raw.images[raw.val_idx[0]]).float()), x_val[0], atol=1e-6)
