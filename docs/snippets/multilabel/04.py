from cnnlab.data.bundle import LoadOptions
from cnnlab.data.scenes_dataset import ScenesConfig, load_scenes
from cnnlab.train.recipes import recipe
from cnnlab.train.tasks import get_task

config = recipe("multilabel")
print(config.model, config.dataset, config.image_size, config.epochs)
data = load_scenes(None, LoadOptions(task="multilabel"), ScenesConfig(n_train=8, n_val=4))
task = get_task("multilabel")(data)
print(task.columns())
assert task.columns() == ("train_loss", "val_loss", "val_map", "val_f1_micro", "val_f1_macro")
