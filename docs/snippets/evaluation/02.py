import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from cnnlab.train import predict_images

digit = load_digits().images[0]  # a zero, 8x8 in [0, 16]
Image.fromarray(np.uint8(np.round(digit / 16 * 255))).save("zero.png")
result = predict_images(run, ["zero.png"], top_k=3).results[0]
print(result["top"])  # [{'class': ..., 'index': ..., 'probability': ...}, ...]
probabilities = [t["probability"] for t in result["top"]]
assert probabilities == sorted(probabilities, reverse=True)
