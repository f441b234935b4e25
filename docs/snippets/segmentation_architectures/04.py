for name in ("fcn32s", "fcn16s", "fcn8s"):
    model = build(name)
    with torch.device("meta"):
        out = model(torch.empty(1, 3, 375, 500))  # a typical PASCAL VOC image
    print(name, "crop offsets", model.offsets, "output", tuple(out.shape))
    assert tuple(out.shape) == (1, 21, 375, 500)
assert build("fcn8s").offsets == {"score_pool4": 5, "score_pool3": 9, "score": 31}
