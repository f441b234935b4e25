x = torch.arange(6.0).view(1, 6, 1, 1)  # two groups: channels 0 1 2 | 3 4 5
print(channel_shuffle(x, 2).flatten().tolist())
assert channel_shuffle(x, 2).flatten().tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
