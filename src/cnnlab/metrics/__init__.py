"""Every score in one room: classification, segmentation, multi-label and detection.

Pure functions give the score of a whole set at once; meters accumulate it batch by batch,
keeping their state on the tensors' device so that an ``update`` in a training loop never waits
for the host. Each score states its conventions and is tested against an independent library:
scikit-learn (classification, multi-label), torchmetrics and scikit-learn (segmentation),
pycocotools (detection mAP).

- :func:`classification_scores`, :class:`ClassificationMeter`, :func:`confusion_matrix_figure`
- :func:`segmentation_scores`, :class:`SegmentationMeter`
- :func:`multilabel_scores`, :func:`best_thresholds`, :class:`MultilabelMeter`
- :func:`mean_average_precision`, :class:`DetectionMeter`
"""

from cnnlab.metrics.classification import ClassificationMeter, classification_scores
from cnnlab.metrics.confusion import confusion_counts
from cnnlab.metrics.confusion_figure import confusion_matrix_figure
from cnnlab.metrics.detection_map import (
    COCO_IOU_THRESHOLDS,
    DetectionMeter,
    mean_average_precision,
)
from cnnlab.metrics.multilabel import MultilabelMeter, best_thresholds, multilabel_scores
from cnnlab.metrics.segmentation import SegmentationMeter, segmentation_scores

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "ClassificationMeter",
    "DetectionMeter",
    "MultilabelMeter",
    "SegmentationMeter",
    "best_thresholds",
    "classification_scores",
    "confusion_counts",
    "confusion_matrix_figure",
    "mean_average_precision",
    "multilabel_scores",
    "segmentation_scores",
]
