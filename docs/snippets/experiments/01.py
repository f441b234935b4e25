from cnnlab.experiments import list_experiments, run

print(list_experiments())
result = run("l1-sparsity", quick=True, seed=0, out="l1")
print(result.verdict)                       # confirmed (all 11 checks pass)
print(result.paths[0].name, result.rows[1])  # results.csv, a dict per row
assert result.passed
