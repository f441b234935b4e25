features = torch.arange(2 * 8 * 8, dtype=torch.float64).reshape(1, 2, 8, 8)
rois = torch.tensor([[0, 16.0, 8.0, 64.0, 56.0]])  # (batch index, x1, y1, x2, y2) in image pixels
pooled = detection.roi_pool(features, rois, output_size=2, spatial_scale=1 / 8)
aligned = detection.roi_align(features, rois, 2, 1 / 8, sampling_ratio=2, aligned=True)
print(pooled.shape, aligned.shape)  # (1, 2, 2, 2) each
assert np.array_equal(scratch.roi_pool(features.numpy(), rois.numpy(), 2, 1 / 8), pooled.numpy())
