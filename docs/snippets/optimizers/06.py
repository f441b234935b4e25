from torch import nn
from cnnlab.optim import AdaBound, create_optimizer

model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
opt = create_optimizer("adabound", model, lr=1e-3, weight_decay=5e-4,
                       exclude_bias_and_norm=True, final_lr=0.1)
print(type(opt).__name__, [len(g["params"]) for g in opt.param_groups],
      [g["weight_decay"] for g in opt.param_groups])  # weights decay; biases and BN do not
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.1)
x, y = torch.randn(32, 4), torch.randn(32, 1)
for _ in range(15):
    opt.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    opt.step()
    sched.step()
state = opt.state_dict()
fresh = create_optimizer("adabound", model, lr=1e-4, weight_decay=5e-4,  # the current lr...
                         exclude_bias_and_norm=True, final_lr=0.1)
fresh.load_state_dict(state)  # ...but the stored base_lr comes back with the state
assert isinstance(fresh, AdaBound)
assert [g["base_lr"] for g in fresh.param_groups] == [1e-3, 1e-3]
