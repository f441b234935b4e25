from cnnlab.core import EpochAccounting, iterations_per_epoch

assert iterations_per_epoch(1000, 10) == 100
assert iterations_per_epoch(1797, 64) == 29                  # ceil(1797 / 64)
assert iterations_per_epoch(1797, 64, drop_last=True) == 28  # floor
print(EpochAccounting(num_samples=1437, batch_size=64, epochs=15).describe())
