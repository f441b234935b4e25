labels = np.array([1.0, 1.0, 0.0])          # cat, dog present; car absent
present = np.flatnonzero(labels)            # [0, 1]

z_softmax = np.zeros(3)
ce = scratch.CrossEntropyLoss()
for _ in range(300):
    ce(np.stack([z_softmax, z_softmax]), present)   # -(log p_cat + log p_dog) / 2
    z_softmax -= 3.0 * ce.backward().sum(axis=0)
p_softmax = np.exp(z_softmax) / np.exp(z_softmax).sum()

z_sigmoid = np.zeros(3)
bce = scratch.BCEWithLogitsLoss()
for _ in range(300):
    bce(z_sigmoid, labels)
    z_sigmoid -= 3.0 * bce.backward()
p_sigmoid = 1 / (1 + np.exp(-z_sigmoid))

print("softmax", p_softmax.round(3))        # [0.5 0.5 0.001]: 0.5 each is the best it can do
print("sigmoid", p_sigmoid.round(3))        # [0.997 0.997 0.003]: both confident, no car
assert np.isclose(p_softmax.sum(), 1) and np.all(p_softmax[:2] < 0.5 + 1e-6)
assert np.all(p_sigmoid[:2] > 0.95) and p_sigmoid[2] < 0.05
print(bce(np.array([1e4, -1e4]), np.array([0.0, 1.0])))   # 10000.0: finite for huge logits
