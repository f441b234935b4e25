hinge = scratch.MultiMarginLoss()
print(hinge(np.array([[3.0, 0.5, 2.5]]), np.array([0])))   # (0 + max(0, 1 - 3 + 2.5)) / 3
assert np.isclose(hinge(np.array([[3.0, 0.5, 2.5]]), np.array([0])), 0.5 / 3)
assert hinge(np.array([[5.0, 0.0, 0.0]]), np.array([0])) == 0.0
assert np.all(hinge.backward() == 0.0)
