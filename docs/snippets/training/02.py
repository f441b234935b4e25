import torch
from torch.utils.data import DataLoader, TensorDataset

data = TensorDataset(torch.zeros(1000, 1))
assert len(DataLoader(data, batch_size=10)) == iterations_per_epoch(1000, 10)
