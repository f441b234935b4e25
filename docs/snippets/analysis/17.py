lstm = nn.LSTM(8, 16)  # (length, batch, features)
rnn = summary(lstm, example_inputs=(torch.zeros(5, 1, 8),))
assert rnn.total_macs == 5 * 4 * 16 * (8 + 16) == 7680 and not rnn.partial
longer = summary(lstm, example_inputs=(torch.zeros(50, 1, 8),))
assert longer.total_macs == 10 * rnn.total_macs
