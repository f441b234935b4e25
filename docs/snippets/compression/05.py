from cnnlab.analysis import summary
from cnnlab.compress import distillation_loss, lowrank
from cnnlab.models import create_model

with torch.device("meta"):                      # shapes only: no 500 MB of weights
    vgg = create_model("vgg16")
factored, ranks = lowrank(vgg, ranks={"classifier.0": 512})
saved = summary(vgg, (3, 224, 224)).total_params - summary(factored, (3, 224, 224)).total_params
assert saved == 25088 * 4096 - 512 * (25088 + 4096)
print(f"fc6 at rank 512: {saved / 1e6:.1f} M weights fewer")

# Hinton et al. (2015): alpha T^2 KL(teacher_T || student_T) + (1 - alpha) CE
student, teacher = torch.randn(8, 10), torch.randn(8, 10)
loss = distillation_loss(student, teacher, torch.arange(8), T=4.0, alpha=0.9)
print(f"distillation loss {loss.item():.3f}")
