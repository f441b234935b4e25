"""Default recipes: the options ``cnnlab train --task NAME`` starts from.

Each task names its recipe (``Task.recipe``: :class:`~cnnlab.train.config.TrainConfig` fields);
the dataset's defaults (:data:`cnnlab.train.config.DATASET_DEFAULTS`) apply under it and
options given on the command line win. Classification's recipe is empty (TrainConfig's own
defaults: the digits CNN on the embedded digits); segmentation's trains a small U-Net on the
digit scenes, multi-label's the digits CNN with global max pooling (``multilabel_cnn``) on the
same scenes' multi-hot targets.
"""

from __future__ import annotations

from typing import Any

from cnnlab.train.config import TrainConfig
from cnnlab.train.tasks import get_task

__all__ = ["recipe"]


def recipe(task: str = "classification", /, **options: Any) -> TrainConfig:
    """The config of ``task``'s recipe, with ``options`` (TrainConfig fields) overriding it.

    Example:
        >>> recipe("segmentation").model
        'unet_small'

    Raises:
        InvalidArgument: an unknown task (with the known ones).
        TypeError: an option that is not a TrainConfig field.
    """
    options.pop("task", None)
    # the task's recipe, then the dataset's defaults under it (mnist5k: lenet5...), then options
    return TrainConfig.for_dataset(**{**get_task(task).recipe, **options, "task": task})
