"""Datasets: the embedded digits first, then folders and torchvision's files the user has."""

from cnnlab.data.datasets import DATASET_KINDS, DatasetBundle, load_dataset, parse_dataset_spec

__all__ = ["DATASET_KINDS", "DatasetBundle", "load_dataset", "parse_dataset_spec"]
