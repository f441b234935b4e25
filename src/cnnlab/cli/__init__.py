"""The ``cnnlab`` command: one module per subcommand, discovered by :mod:`cnnlab.cli.main`."""
