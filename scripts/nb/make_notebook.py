"""Write a notebook from a compact spec (list of ("md"|"code", source)).
Used to author notebooks/*.ipynb reproducibly; the notebooks are committed."""
import json, sys

def write(path, cells):
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": src.strip("\n").splitlines(True)} if kind == "md" else
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src.strip("\n").splitlines(True)}
            for kind, src in cells
        ],
        "metadata": {
            "kernelspec": {"display_name": "TypeScript (dyt-lab)", "language": "typescript", "name": "tslab"},
            "language_info": {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"c{i:02d}"
    with open(path, "w") as f:
        json.dump(nb, f, indent=1)
        f.write("\n")
