from cnnlab.data.transforms import PCALighting, fit_pca_lighting
from cnnlab.demos.augmentation import load_photo

photo = load_photo(64)                        # scikit-learn's china.jpg, (3, 64, 64) in [0, 1]
eigval, eigvec = fit_pca_lighting(photo[None])
print("eigenvalues", eigval.numpy().round(4)) # one dominant direction: brightness
assert eigval[0] > 5 * eigval[1]
torch.manual_seed(0)
shifted = PCALighting(eigval, eigvec, std=0.1)(photo)
shift = (shifted - photo)[:, 0, 0]            # the same colour added to every pixel
torch.manual_seed(0)
alpha = 0.1 * torch.randn(3, dtype=torch.float64)
assert torch.allclose(shift.double(), eigvec @ (alpha * eigval), atol=1e-6)
