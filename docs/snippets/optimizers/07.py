from pathlib import Path
from cnnlab.cli.main import main

Path("img").mkdir(exist_ok=True)
for function in ("rosenbrock", "beale", "saddle", "himmelblau"):
    assert main(["optim-race", "--function", function,
                 "--out", f"img/optim_race_{function}.png"]) == 0
