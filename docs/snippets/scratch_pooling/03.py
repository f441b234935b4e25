x = np.array([[[[1.0, 5.0, 2.0, 0.0],
                [3.0, 4.0, 7.0, 7.0],
                [0.0, 0.0, 1.0, 2.0],
                [9.0, 0.0, 3.0, 1.0]]]])
mp = scratch.MaxPool2d(2)
y = mp(x)
print(y[0, 0])                 # [[5. 7.] [9. 3.]]
print(mp.indices[0, 0])        # [[ 1  6] [12 14]]: the first 7 (index 6) wins the tie
dx = mp.backward(np.ones_like(y))
print(dx[0, 0])
assert np.count_nonzero(dx) == 4 and dx.sum() == 4.0
assert dx.reshape(-1)[6] == 1.0 and dx.reshape(-1)[7] == 0.0
