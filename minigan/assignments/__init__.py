"""Self-grading assignments: reference solutions, the student templates made from them, and checks.

Each assignment is one module here (``a1_backward.py``, ...) holding a *reference solution*: the parts
a student writes sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines; everything else
(signatures, docstrings with the math, hints) is the handout. For teachers::

    python -m minigan.assignments.make_student --out handout/        # blank the marked regions
    python -m minigan.grade A1 handout/a1_backward.py                 # grade a student's file
    python -m minigan.grade --list

The checks of assignment ``A<n>`` live in ``checks_a<n>.py`` (``CHECKS``, a list of
:class:`~minigan.assignments.checking.Check`); they never ship in the handout.
"""
import importlib
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    name: str     # "A1"
    module: str   # "a1_backward": the solution is minigan/assignments/a1_backward.py
    title: str
    checks: str   # the module whose CHECKS grade it

    @property
    def filename(self):
        return self.module + ".py"

    @property
    def solution_path(self):
        return os.path.join(os.path.dirname(os.path.abspath(__file__)), self.filename)

    def load_checks(self):
        return importlib.import_module(f"minigan.assignments.{self.checks}").CHECKS


ASSIGNMENTS = {a.name: a for a in (
    Assignment("A1", "a1_backward", "the backward pass of six ops (Mul, Exp, Log, Tanh, Sum, MatMul)", "checks_a1"),
    Assignment("A2", "a2_layers", "a Linear layer, binary cross entropy and an Adam step, by hand", "checks_a2"),
    Assignment("A3", "a3_optimal_d", "the optimal discriminator D* and Theorem 1, numerically and trained",
               "checks_a3"),
    Assignment("A4", "a4_gradient_penalty", "the WGAN-GP gradient penalty, by double backward", "checks_a4"),
)}


def get_assignment(name):
    """The Assignment called ``name`` ("A1" or "a1"); KeyError with the known names otherwise."""
    key = str(name).upper()
    if key not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {name!r} (choose from {', '.join(ASSIGNMENTS)})")
    return ASSIGNMENTS[key]
