from cnnlab.demos.detectors import GAMMAS, focal_loss_curves

p_t = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
curves = focal_loss_curves(p_t)
for gamma in GAMMAS:
    print(f"gamma {gamma}: {[round(v, 4) for v in curves[gamma].tolist()]}")
assert torch.allclose(curves[2.0] / curves[0.0], (1 - p_t) ** 2)  # the modulating factor
