"""Every tutorial runs top to bottom in its fast mode and writes the figures it promises.

Each script runs in its own Python process, as a student would run it, with MINIGAN_FAST=1
(short training loops) and MINIGAN_TUTORIAL_OUT pointing at a temporary folder.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

TUTORIALS = pathlib.Path(__file__).resolve().parents[1] / "tutorials"
SCRIPTS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
PRINTS_ONLY = {"08_cupy_backend.py"}  # explains and prints; every other tutorial saves figures


def test_the_sequence_is_numbered_without_gaps():
    numbers = [int(p.name[:2]) for p in SCRIPTS]
    assert numbers == list(range(1, len(SCRIPTS) + 1)) and len(SCRIPTS) >= 8, [p.name for p in SCRIPTS]
    readme = (TUTORIALS / "README.md").read_text()
    missing = [p.name for p in SCRIPTS if p.name not in readme]
    assert not missing, f"tutorials/README.md does not list {missing}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_tutorial_runs_in_fast_mode(script, tmp_path):
    out = tmp_path / "figures"
    env = dict(os.environ, MINIGAN_FAST="1", MINIGAN_TUTORIAL_OUT=str(out), MPLBACKEND="Agg")
    # tiny matrices: a second BLAS thread only adds synchronization, which on a busy machine
    # can make a run many times slower (the training tutorials also limit it themselves)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, (f"{script.name} exited with status {result.returncode}\n"
                                    f"--- stderr ---\n{result.stderr[-6000:]}\n"
                                    f"--- end of stdout ---\n{result.stdout[-2000:]}")
    if script.name not in PRINTS_ONLY:
        figures = sorted(out.glob("*.png"))
        assert figures, f"{script.name} saved no PNG in MINIGAN_TUTORIAL_OUT ({out})\n{result.stdout[-2000:]}"
        prefix = script.name[:3]  # figures are named after their tutorial: "04_..."
        assert all(re.match(re.escape(prefix), f.name) for f in figures), [f.name for f in figures]
        assert all(f.stat().st_size > 1000 for f in figures), [(f.name, f.stat().st_size) for f in figures]
