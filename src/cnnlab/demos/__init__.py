"""The picture-making demos behind ``cnnlab boxes-demo`` and ``cnnlab optim-race``.

Each demo computes with the library and draws with matplotlib's object-oriented API
(``matplotlib.figure.Figure``), so importing it never changes the global backend.
"""
