"""Write tutorials/NN_*.ipynb from the percent scripts beside them: the scripts are the source.

    pip install -e ".[dev]"            # for jupytext
    python tutorials/make_notebooks.py

Run it after editing a tutorial; tests/test_notebooks.py fails while a notebook is out of date.
The notebooks are written without outputs (the repository stays small; executing them is the
test's job) and with cell ids numbered in order, so that regenerating one changes only what
changed in its script.
"""
import pathlib

import jupytext

HERE = pathlib.Path(__file__).resolve().parent
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def tutorial_scripts():
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def notebook_for(script):
    """The notebook of one percent script: its cells, no outputs, a Python 3 kernel."""
    notebook = jupytext.read(script)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:02d}"  # jupytext draws random ids: every run would rewrite every cell
    notebook.metadata["kernelspec"] = KERNELSPEC  # so Jupyter opens it without asking for a kernel
    return notebook


def main():
    for script in tutorial_scripts():
        target = script.with_suffix(".ipynb")
        jupytext.write(notebook_for(script), target)
        print("wrote", target.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
