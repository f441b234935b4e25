# (#5) the usual preprocessing steps, each on the training statistics only: zero-centre, scale to
# unit variance, and (for correlated features) PCA-whiten; validation data get the same numbers,
# so its mean is close to, not exactly, 0
val = raw.images[raw.val_idx]
centred = (val - raw.mean[0]) / raw.std[0]
print(f"validation after training statistics: mean {centred.mean():+.4f}, std {centred.std():.4f}")
assert abs(centred.mean()) < 0.05 and abs(centred.std() - 1) < 0.05 and centred.mean() != 0

flat = train.reshape(len(train), -1)[:, ::8]              # 98 pixel features per image
cov = np.cov(flat - flat.mean(0), rowvar=False)
vals, vecs = np.linalg.eigh(cov)
keep = vals > 1e-8 * vals.max()                           # drop the constant border pixels
white = (flat - flat.mean(0)) @ vecs[:, keep] / np.sqrt(vals[keep])
assert np.allclose(np.cov(white, rowvar=False), np.eye(keep.sum()), atol=1e-8)  # decorrelated
