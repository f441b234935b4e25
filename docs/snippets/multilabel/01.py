import torch

logits = torch.tensor([4.0, 4.0, -3.0])  # cat, dog, bird: the image shows a cat and a dog
softmax = torch.softmax(logits, dim=0)
sigmoid = torch.sigmoid(logits)
print("softmax:", [round(p, 3) for p in softmax.tolist()], "sum", round(float(softmax.sum()), 3))
print("sigmoid:", [round(p, 3) for p in sigmoid.tolist()])
assert abs(float(softmax.sum()) - 1) < 1e-6
assert (softmax[:2] < 0.5).all()  # two present labels cannot both be confident
assert (sigmoid[:2] > 0.98).all() and sigmoid[2] < 0.05  # each answered on its own

# However large the logits, two softmax probabilities never both pass 0.5:
big = torch.softmax(torch.tensor([50.0, 50.0, -50.0]), dim=0)
assert big[0] <= 0.5 and big[1] <= 0.5
