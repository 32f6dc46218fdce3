"""The walkthrough notebook, executed once by a real Jupyter kernel in a fresh directory.

A cell that raises fails the module. Check cells appended to the notebook (not
saved) read what only the kernel can see: a figure rendered to PNG, the
figures drawn, and the progress bar of a long load.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "walkthrough.ipynb"

#: Appended to the notebook for the run: name -> code.
CHECK_CELLS = {
    "png": "heatmap.figure.savefig('heatmap.png', dpi=60)",
    "figures": (
        "print(sorted(axes.get_title() for number in plt.get_fignums()\n"
        "             for axes in plt.figure(number).axes if axes.get_title()))"
    ),
    "progress": (
        "import itertools\n"
        "from naklar._read.progress import Progress\n"
        "clock = itertools.count(0.0, 10.0).__next__  # every reading ten seconds later\n"
        "with Progress(4, 'reading settings files', enabled=True, clock=clock) as progress:\n"
        "    progress.advance_to(1)\n"
        "    progress.advance_to(4)"
    ),
    "html": (
        "from IPython.display import display\n"
        "display(experiment.select('i', C=1), experiment.select(C=1)[0], report)"
    ),
}


def _code_cells(notebook: Any) -> list[Any]:
    """The notebook's own code cells, without the appended checks."""
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and "naklar_check" not in cell.metadata
    ]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], Path]:
    """The notebook run by an ipykernel: (notebook, check cells by name, its directory).

    It runs once per test session: test processes of pytest-xdist share the
    executed notebook through their common temporary directory.
    """
    pytest.importorskip("sklearn", reason="the walkthrough writes the demo sweep (scikit-learn)")
    pytest.importorskip("seaborn", reason="the walkthrough plots with seaborn")
    nbformat = pytest.importorskip("nbformat", reason="the test extra has nbclient")
    pytest.importorskip("nbclient", reason="the test extra has nbclient")

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the directory every worker of this session shares
    result = shared / "walkthrough-executed.ipynb"
    with _exclusive(shared / "walkthrough.lock"):
        if not result.exists():
            _execute(shared / "walkthrough", result)
    notebook = nbformat.read(result, as_version=4)
    checks = {cell.metadata["naklar_check"]: cell for cell in _check_cells(notebook)}
    return notebook, checks, shared / "walkthrough"


def _execute(directory: Path, result: Path) -> None:
    """Run the notebook with the check cells appended in ``directory``; save it as ``result``."""
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for name, source in CHECK_CELLS.items():
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata={"naklar_check": name}))
    directory.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")  # figures drawn, none rendered for the screen
        # no kernel spec of the user's (another Python's, say) is found before this
        # environment's; the kernel's connection files stay in the test's directory too
        patch.setenv("JUPYTER_DATA_DIR", str(directory / "jupyter"))
        client = nbclient.NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(directory)}},
        )
        client.execute()  # raises CellExecutionError, naming the cell, if one fails
    nbformat.write(notebook, result)


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold ``lock`` against the other test processes (where the system has ``flock``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: each process runs the notebook itself
        yield
        return
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if "naklar_check" in cell.metadata]


def _cell_with(notebook: Any, text: str) -> Any:
    (cell,) = [cell for cell in _code_cells(notebook) if text in cell.source]
    return cell


def _output(cell: Any, mime: str) -> str:
    found = [output["data"][mime] for output in cell.outputs if mime in output.get("data", {})]
    assert found, f"no {mime} output from {cell.source!r}: {cell.outputs}"
    return str(found[-1])


def _streamed(cell: Any) -> str:
    return "".join(
        output.get("text", "") for output in cell.outputs if output.output_type == "stream"
    )


def test_walkthrough_runs_every_cell_under_a_kernel(executed: Any) -> None:
    notebook, _, _ = executed

    cells = _code_cells(notebook)

    assert len(cells) >= 15
    assert all(cell.execution_count for cell in cells)
    assert not [
        output for cell in cells for output in cell.outputs if output.output_type == "error"
    ]


def test_walkthrough_load_report_cell_shows_the_summary(executed: Any) -> None:
    cell = _cell_with(executed[0], "report = experiment.initialise")

    assert _output(cell, "text/plain") == "12 conf.json files under results: 12 loaded, 0 skipped"


def test_walkthrough_store_cell_shows_its_columns_and_types(executed: Any) -> None:
    cell = _cell_with(executed[0], "experiment.store()")

    page = _output(cell, "text/html")
    assert "12 runs" in page and "sqlite://" in page
    assert "<td>f1</td><td>Float</td>" in page and "<td>kernel</td><td>String</td>" in page


def test_walkthrough_store_loaded_with_metrics_marks_them(executed: Any) -> None:
    cell = _cell_with(executed[0], "sweep   # its columns")

    page = _output(cell, "text/html")
    for metric in ("precision", "recall", "f1", "accuracy"):
        assert f"<td>{metric}</td><td>Float</td><td>yes</td>" in page
    assert "<td>C</td><td>Float</td><td></td>" in page


@pytest.mark.parametrize(
    ("call", "header", "row"),
    [
        ("select('i', 'path', 'f1')", "<th>i</th><th>path</th><th>f1</th>", "<td>results/0</td>"),
        ("select('path', C=[1, 2])", "<th>path</th>", "<td>results/2</td>"),
        ("select(kernel='linear')", "<th>naklar_dir</th><th>kernel</th>", "<td>linear</td>"),
    ],
)
def test_walkthrough_selections_show_html_tables(
    executed: Any, call: str, header: str, row: str
) -> None:
    cell = _cell_with(executed[0], call)

    page = _output(cell, "text/html")
    assert page.startswith('<table class="naklar">')
    assert header in page and row in page
    assert _output(cell, "text/plain").startswith("[")  # the list as the documentation shows it


def test_walkthrough_decorator_translates_paths_to_this_machine(executed: Any) -> None:
    notebook, _, directory = executed
    cell = _cell_with(notebook, "decorator.translate_path")

    page = _output(cell, "text/html")
    for i in (2, 6, 10):
        assert f"<td>{directory / 'results' / str(i)}</td>" in page


def test_walkthrough_pivot_table_has_kernels_by_C(executed: Any) -> None:
    cell = _cell_with(executed[0], "pivot_table(")

    page = _output(cell, "text/plain")
    assert all(kernel in page for kernel in ("linear", "poly", "rbf"))
    assert all(c in page for c in ("0.001", "0.1", "1.0", "2.0"))


def test_walkthrough_draws_both_figures(executed: Any) -> None:
    _, checks, _ = executed

    assert _streamed(checks["figures"]).strip() == (
        "['f1 against C, per kernel', 'f1 of the iris SVC over kernel and C', "
        "'f1 per kernel, mean over C']"
    )


def test_walkthrough_heatmap_renders_to_png(executed: Any) -> None:
    _, _, directory = executed

    png = (directory / "heatmap.png").read_bytes()

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5_000  # a drawn figure, not an empty canvas


def test_progress_bar_shows_in_the_kernel(executed: Any) -> None:
    _, checks, _ = executed
    cell = checks["progress"]

    shown = _streamed(cell) + json.dumps([output.get("data", {}) for output in cell.outputs])
    # a widget where ipywidgets is installed, else tqdm's text bar on stderr
    assert "reading settings files" in shown
    assert "/4" in shown


def test_display_in_the_kernel_gives_html_for_runs_and_text_for_the_report(executed: Any) -> None:
    outputs = executed[1]["html"].outputs

    assert [sorted(output["data"]) for output in outputs] == [
        ["text/html", "text/plain"],
        ["text/html", "text/plain"],
        ["text/plain"],
    ]
    assert outputs[0]["data"]["text/plain"] == "[Row(i=2), Row(i=6), Row(i=10)]"
    assert "<td>rbf</td>" not in outputs[1]["data"]["text/html"]  # run 2 is linear


def test_notebook_is_committed_without_outputs() -> None:
    cells = [
        cell for cell in json.loads(NOTEBOOK.read_text())["cells"] if cell["cell_type"] == "code"
    ]

    assert cells
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in cells)
