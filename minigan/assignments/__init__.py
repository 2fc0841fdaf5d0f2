"""Self-grading assignments: reference solutions, the student templates made from them, and checks.

The templates (``templates/*.py``, what a student gets) ship with the package; the checks need
neither the solutions nor anything a student can reach (see ``minigan/grade.py``), so a teacher
may delete the solution files from a student's installation, or ship the templates alone.

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


HERE = os.path.dirname(os.path.abspath(__file__))
EVERYWHERE = ("minigan.theory", "minigan.gan")  # hold D*, JSD, the GAN losses and the penalty


@dataclass(frozen=True)
class Assignment:
    name: str     # "A1"
    module: str   # "a1_backward": the solution is minigan/assignments/a1_backward.py
    title: str
    checks: str   # the module whose CHECKS grade it
    graded: tuple = ()     # the names the student writes (each must be a def/class of the file)
    forbidden: tuple = ()  # dotted names the submission may not use ("write it yourself")
    host_only: tuple = ()  # modules not to call inside the graded pieces (numpy, where self.xp belongs)
    checks_module: str = ""  # full module name of the checks (default minigan.assignments.<checks>)
    folder: str = HERE       # where the solution and the templates/ folder live
    checks_source: bytes = b""  # a plug-in's checks module, as read once (given to each child)

    @property
    def filename(self):
        return self.module + ".py"

    @property
    def solution_path(self):
        return os.path.join(self.folder, self.filename)

    @property
    def template_path(self):
        return os.path.join(self.folder, "templates", self.filename)

    @property
    def checks_import(self):
        return self.checks_module or f"minigan.assignments.{self.checks}"

    def load_checks(self):
        return importlib.import_module(self.checks_import).CHECKS


ASSIGNMENTS = {a.name: a for a in (
    Assignment("A0", "a0_engine", "the engine: topological order, gradient accumulation, un-broadcasting",
               "checks_a0", graded=("topological_order", "unbroadcast", "backward"),
               forbidden=("minigan.grad", "minigan.tensor.grad", "minigan.tensor.run_backward",
                          "minigan.tensor._topological_order", "minigan.ops.reduce.sum_to", ".sum_to",
                          "minigan.gradcheck") + EVERYWHERE),
    Assignment("A1", "a1_backward", "the backward pass of six ops (Mul, Exp, Log, Tanh, Sum, MatMul)", "checks_a1",
               graded=("Mul", "Exp", "Log", "Tanh", "Sum", "MatMul"),
               # minigan's own ops, and autograd run inside a backward (mg.grad on minigan's ops)
               forbidden=("minigan.ops", "minigan.grad", "minigan.tensor.grad",
                          "minigan.nn") + EVERYWHERE, host_only=("numpy",)),
    Assignment("A2", "a2_layers", "a Linear layer, binary cross entropy and an Adam step, by hand", "checks_a2",
               graded=("Linear", "binary_cross_entropy", "adam_step"),
               forbidden=("minigan.nn.Linear", "minigan.nn.layers", "minigan.linear", "minigan.ops.linalg",
                          "minigan.ops.loss", "minigan.nn.functional.linear",
                          "minigan.nn.functional.binary_cross_entropy",
                          "minigan.nn.functional.binary_cross_entropy_with_logits", "minigan.optim",
                          "torch") + EVERYWHERE),
    Assignment("A3", "a3_optimal_d", "the optimal discriminator D* and Theorem 1, numerically and trained",
               "checks_a3", graded=("optimal_discriminator", "value_function", "jsd", "C", "train_discriminator"),
               forbidden=EVERYWHERE),
    Assignment("A4", "a4_gradient_penalty", "the WGAN-GP gradient penalty, by double backward", "checks_a4",
               graded=("gradient_penalty",), forbidden=EVERYWHERE),
)}


def get_assignment(name):
    """The Assignment called ``name`` ("A1" or "a1"); KeyError with the known names otherwise."""
    key = str(name).upper()
    if key not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {name!r} (choose from {', '.join(ASSIGNMENTS)})")
    return ASSIGNMENTS[key]
