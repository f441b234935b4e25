from sklearn.linear_model import Ridge

rng = np.random.default_rng(0)
gt = torch.from_numpy(rng.uniform(0, 200, (300, 2))).repeat(1, 2)
gt[:, 2:] += torch.from_numpy(rng.uniform(20, 100, (300, 2)))
size = (gt[:, 2:] - gt[:, :2]).repeat(1, 2)
proposals = gt + torch.from_numpy(rng.uniform(-0.25, 0.25, (300, 4))) * size
targets = detection.encode_boxes(proposals, gt).numpy()
features = np.hstack(
    [targets + 0.05 * rng.standard_normal((300, 4)), rng.standard_normal((300, 8))]
)

reg = detection.BoxRegressor(alpha=1.0).fit(features[:200], proposals[:200], gt[:200])
ref = Ridge(alpha=1.0).fit(features[:200], targets[:200])
assert np.allclose(reg.coef_.numpy(), ref.coef_)  # one weight vector per coordinate, (4, 12)
assert np.allclose(reg.intercept_.numpy(), ref.intercept_)

boxes = reg.predict(features[200:], proposals[200:])
before = detection.box_iou(proposals[200:], gt[200:]).diagonal().mean()
after = detection.box_iou(boxes, gt[200:]).diagonal().mean()
print(f"mean IoU with ground truth: {before:.3f} -> {after:.3f}")
assert after > before
