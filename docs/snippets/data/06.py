from torchvision import tv_tensors
from cnnlab.data.scenes import make_scenes
from cnnlab.data.transforms import ElasticDeform

scene = make_scenes(1, image_size=64, seed=1)
image, mask = tv_tensors.Image(scene.images[0]), tv_tensors.Mask(scene.masks[0])
torch.manual_seed(0)
warped_image, warped_mask = ElasticDeform(sigma=10.0, grid=3)(image, mask)
assert warped_mask.dtype == torch.int64
assert set(warped_mask.unique().tolist()) <= set(mask.unique().tolist())  # labels stay labels
assert (warped_image[0][warped_mask > 0] > 0.12).all()  # on their strokes (bilinear >= 1/4 of 0.5)
