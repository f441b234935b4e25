with torch.device("meta"):
    head = create_model("deeplabv3_resnet50").classifier[0]
print("ASPP rates:", [b[0].dilation[0] for b in head.convs[1:4]], "+ image pooling")
box = report.field_of("", (100, 100))
assert box.clipped == ((0, 223), (0, 223))  # pixel (100, 100) sees the whole image
