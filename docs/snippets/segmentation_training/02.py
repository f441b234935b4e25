from cnnlab.data.bundle import LoadOptions
from cnnlab.data.scenes_dataset import ScenesConfig, load_scenes
from cnnlab.data.transforms import AugmentConfig
from cnnlab.train.recipes import recipe
from cnnlab.train.tasks import get_task

config = recipe("segmentation")
print(config.model, config.dataset, config.image_size, config.augment, config.elastic)
options = LoadOptions(task="segmentation", augment=AugmentConfig("crop", elastic=2.0))
data = load_scenes(None, options, ScenesConfig(n_train=8, n_val=4, image_size=32))
image, mask = data.train[0]  # the image and its mask moved together
print(data.describe(), tuple(image.shape), tuple(mask.shape))
task = get_task("segmentation")(data)
assert task.columns() == ("train_loss", "val_loss", "val_pixel_acc", "val_miou")
