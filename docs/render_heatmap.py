"""Render the walkthrough notebook's heatmap to ``docs/heatmap.png`` (the README shows it).

Runs ``notebooks/walkthrough.ipynb`` in a Jupyter kernel in a temporary directory,
as the tests do, and saves the figure the notebook draws::

    python docs/render_heatmap.py
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).parent
NOTEBOOK = HERE.parent / "notebooks" / "walkthrough.ipynb"


def main() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    save = "heatmap.figure.savefig('heatmap.png', dpi=80, bbox_inches='tight')"
    notebook.cells.append(nbformat.v4.new_code_cell(save))
    os.environ["MPLBACKEND"] = "Agg"
    with tempfile.TemporaryDirectory() as directory:
        resources = {"metadata": {"path": directory}}
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources=resources
        )
        client.execute()
        shutil.copyfile(Path(directory) / "heatmap.png", HERE / "heatmap.png")
    print(f"wrote {HERE / 'heatmap.png'}")


if __name__ == "__main__":
    main()
