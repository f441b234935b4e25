def tiles(side):
    try:
        unet_output_size(side)
    except ValueError:
        return False
    return True


sides = [s for s in range(150, 300) if tiles(s)]
print(sides)  # 188, 204, ..., 284: 16k + 124 with k >= 4 (156 and 172 have k < 4)
assert sides == [16 * k + 124 for k in range(4, 11)]
print(unet_output_size(188), unet_output_size(572))
try:
    unet_output_size(570)
except ValueError as err:
    print(err)
same = build("unet", padding="same")
with torch.device("meta"):
    assert tuple(same(torch.empty(1, 1, 256, 256)).shape) == (1, 2, 256, 256)
