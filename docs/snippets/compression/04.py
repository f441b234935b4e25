from cnnlab.compress import quantize_static, saved_bytes

images = torch.stack([run.data.train[i][0] for i in range(128)])
int8 = quantize_static(run.model, images.split(32))     # calibrated on 128 training images
float_acc, int8_acc = accuracy(run.model, run.data.val), accuracy(int8, run.data.val)
ratio = saved_bytes(run.model.state_dict()) / saved_bytes(int8.state_dict())
print(f"val acc {float_acc:.4f} -> {int8_acc:.4f}, state dict {ratio:.2f}x smaller")
assert int8_acc >= float_acc - 0.01 and ratio >= 3.5
