import numpy as np
from cnnlab.data import load_arrays, load_dataset
from cnnlab.data.datasets import dataset_kind

data = load_arrays("mnist5k")                 # NumPy only: the scratch tier trains on this too
print(data.describe())
assert np.bincount(data.y_val).tolist() == [100] * 10
assert dataset_kind("mnist5k").default_model == "lenet5"
