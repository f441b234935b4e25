C = 64
stack = nn.Sequential(*[nn.Conv2d(C, C, 3, padding=1, bias=False) for _ in range(3)])
big = nn.Conv2d(C, C, 7, padding=3, bias=False)
r_stack, r_big = summary(stack, (C, 56, 56)), summary(big, (C, 56, 56))
assert r_stack.receptive_field.size == r_big.receptive_field.size == (7, 7)
assert r_stack.total_params == 27 * C * C and r_big.total_params == 49 * C * C
print([row.rf_size[0] for row in r_stack.rows])  # 3, 5, 7
