import torch

from cnnlab.train.monitor import EarlyStopping

# L2 regularisation: SGD's weight_decay is the gradient of wd/2 * sum(w^2) added to the loss.
w0 = torch.randn(5, dtype=torch.float64)
x = torch.randn(5, dtype=torch.float64)
wd, lr = 0.1, 0.5
a = w0.clone().requires_grad_()
opt = torch.optim.SGD([a], lr=lr, weight_decay=wd)
(a @ x).backward()
opt.step()
b = w0.clone().requires_grad_()
(b @ x + wd / 2 * (b**2).sum()).backward()
assert torch.allclose(a.detach(), w0 - lr * b.grad)

# Early stopping: stop after `patience` epochs without a better validation accuracy.
stop = EarlyStopping(patience=2, mode="max")
accuracies = [0.90, 0.93, 0.92, 0.93, 0.91, 0.95]
for epoch, acc in enumerate(accuracies, 1):
    if stop.update(acc, epoch):
        break
assert epoch == 4 and stop.best == 0.93  # epochs 3 and 4 did not beat 0.93: 0.95 is never seen
