from cnnlab.data.transforms import AugmentConfig, PRESETS, build_transforms

pair = build_transforms("trivialaugment", pre)
x = torch.rand(1, 28, 28)
assert pair.train(x).shape == (1, 28, 28) and not pair.train_is_val
assert torch.equal(pair.val(x), pre.transform()(x))        # validation: preprocessing only

try:
    build_transforms("autoagment", pre)
except ValueError as err:
    print(err)                                             # ... did you mean autoaugment?

bundle = load_dataset("mnist5k", augment=AugmentConfig("crop", random_erasing=0.25))
image, label = bundle.train[0]                             # a new random crop on every access
