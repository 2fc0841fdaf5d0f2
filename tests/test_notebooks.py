"""The tutorial notebooks: generated from the percent scripts and in sync with them, and, executed
in a Jupyter kernel in fast mode, they show every figure they save, inline, exactly once.

tests/test_tutorials.py runs the same code as plain scripts; here it runs cell by cell in the kernel
a student opens, where a figure saved to disk only would be invisible.
"""
import contextlib
import importlib.util
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
SCRIPTS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
DEV = "pip install -e '.[dev]'"
REGENERATE = "regenerate them with: python tutorials/make_notebooks.py"
CELL_TIMEOUT_S = 300  # per cell; fast mode needs seconds, a loaded 2-core machine many more
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # a kernel's default; set in case Agg is inherited


def _jupyter():
    """jupytext and nbformat, or a skip naming the install that brings them."""
    return (pytest.importorskip("jupytext", reason=f"the notebook tests need jupytext: {DEV}"),
            pytest.importorskip("nbformat", reason=f"the notebook tests need nbformat: {DEV}"))


def _make_notebooks():
    spec = importlib.util.spec_from_file_location("make_notebooks", TUTORIALS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_script_has_its_notebook_and_no_notebook_is_orphaned():
    notebooks = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
    assert [p.stem for p in notebooks] == [p.stem for p in SCRIPTS], (
        f"notebooks {[p.name for p in notebooks]} vs scripts {[p.name for p in SCRIPTS]}; {REGENERATE}")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_is_in_sync_with_its_script(script):
    jupytext, nbformat = _jupyter()
    notebook_path = script.with_suffix(".ipynb")
    if not notebook_path.exists():
        pytest.fail(f"{notebook_path.name} is missing; {REGENERATE}")
    notebook = nbformat.read(notebook_path, as_version=4)
    nbformat.validate(notebook)
    expected = _cells(jupytext.read(script))
    actual = _cells(notebook)
    stale = next((i for i, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))
    assert actual == expected, (f"{notebook_path.name} differs from {script.name} from cell {stale} on "
                                f"({len(actual)} cells vs {len(expected)}); {REGENERATE}")
    with_outputs = [i for i, cell in enumerate(notebook.cells)
                    if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not with_outputs, f"{notebook_path.name} was saved with outputs in cells {with_outputs}; {REGENERATE}"


def test_the_generator_is_deterministic_and_made_what_is_checked_in(tmp_path):
    """Regenerating an unchanged tutorial leaves git clean: make_notebooks.py writes the same bytes
    every time (jupytext alone would draw new random cell ids), and the checked-in notebooks carry
    its numbered ids, so they were written by it."""
    jupytext, nbformat = _jupyter()
    make = _make_notebooks()
    runs = []
    for run in range(2):
        path = tmp_path / f"run{run}.ipynb"
        jupytext.write(make.notebook_for(SCRIPTS[0]), path)
        runs.append(path.read_bytes())
    assert runs[0] == runs[1]
    for script in SCRIPTS:
        notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
        ids = [cell.id for cell in notebook.cells]
        assert ids == [f"cell-{i:02d}" for i in range(len(ids))], f"{script.stem}.ipynb: {REGENERATE}"
        assert notebook.metadata.get("kernelspec", {}).get("name") == "python3", f"{script.stem}.ipynb: {REGENERATE}"


def _inline_pngs(notebook):
    return sum("image/png" in output.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_runs_in_fast_mode_and_shows_every_saved_figure(script, tmp_path, monkeypatch):
    _, nbformat = _jupyter()
    nbclient = pytest.importorskip("nbclient", reason=f"executing notebooks needs nbclient: {DEV}")
    pytest.importorskip("ipykernel", reason=f"executing notebooks needs ipykernel: {DEV}")
    out = tmp_path / "figures"
    # the kernel inherits this process's environment; PYTHONPATH makes it import this checkout's
    # minigan, not whichever one is installed
    for name, value in {"MINIGAN_FAST": "1", "MINIGAN_TUTORIAL_OUT": str(out), "MPLBACKEND": INLINE_BACKEND,
                        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
                        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
                        }.items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(client.setup_kernel())
        except Exception as error:  # no kernelspec, or a kernel that dies on start: not this test's subject
            pytest.skip(f"no Jupyter kernel could be started: {type(error).__name__}: {error}")
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)  # raises CellExecutionError with the cell's traceback
    saved = sorted(p.name for p in out.glob("*.png"))
    shown = _inline_pngs(notebook)
    # fewer: a figure went to disk only; more: one was shown twice (or shown and never saved)
    assert shown == len(saved), f"{script.name} showed {shown} PNG images inline but saved {len(saved)}: {saved}"
