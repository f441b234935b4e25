from pathlib import Path

names = [str(d) for d in range(10)]
fig = confusion_matrix_figure(result["confusion_matrix"], names, title="a weak classifier")
Path("img").mkdir(exist_ok=True)
fig.savefig("img/metrics_confusion_matrix.png", dpi=80)
