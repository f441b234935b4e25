with torch.device("meta"):
    densenet = torchvision.models.densenet121()
    efficient = torchvision.models.densenet121(memory_efficient=True)
dense = summary(densenet, (3, 224, 224), mode="train")
checkpointed = summary(efficient, (3, 224, 224), mode="train")
per_image = {name: r.memory("sgd", 1).saved_activation_bytes / 2**20
             for name, r in (("resnet50", train), ("densenet121", dense),
                             ("densenet121 checkpointed", checkpointed))}
print({name: f"{mib:.0f} MiB" for name, mib in per_image.items()})
assert dense.total_params < train.total_params / 3 and dense.total_macs < train.total_macs
assert per_image["densenet121"] > 1.4 * per_image["resnet50"]
assert per_image["densenet121 checkpointed"] < per_image["densenet121"] / 2
