from cnnlab.data.arrays import load_arrays
from cnnlab.scratch.optim import SGD
from cnnlab.scratch.tiny_cnn import tiny_cnn
from cnnlab.scratch.training import fit

data = load_arrays("digits")
print(data.describe())   # digits: 1437 train / 360 val images, 1x8x8, 10 classes
net = tiny_cnn(width=8, rng=0)
history = fit(net, scratch.CrossEntropyLoss(), SGD(net.parameters(), lr=0.05, momentum=0.9),
              (data.x_train, data.y_train), (data.x_val, data.y_val), epochs=2, batch_size=64)
print(history.accounting.describe())
print(history.epochs[-1].describe())
assert history.epochs[-1].test_acc > 0.8
