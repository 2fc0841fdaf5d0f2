"""The README's Python examples run as written (training shortened), so the README stays true."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_setup_commands():
    text = README.read_text()
    assert 'pip install -e ".[dev]" && python -m minigan.train' in text
    assert "python -m pytest" in text


def test_readme_python_examples_run():
    blocks = [b for b in _python_blocks() if "import torch" not in b]   # torch's: tests/test_packaging.py
    assert len(blocks) >= 2
    for code in blocks:
        exec(compile(code.replace("range(2000)", "range(5)"), str(README), "exec"), {})
