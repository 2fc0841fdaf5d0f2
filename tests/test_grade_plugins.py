"""A teacher's own assignment from a folder (``--assignments DIR``): graded like the built-in ones,
blanked by make_student, with the same write-it-yourself rules; a malformed folder is one error line."""
import json

import pytest

from minigan.assignments import ASSIGNMENTS
from minigan.assignments import make_student as make_student_cli
from minigan.grade import main

SOLUTION = '''\
"""T1: softplus(a) = log(1 + exp(a)), forward and backward."""
import minigan as mg  # noqa: F401
from minigan.tensor import Function


class Softplus(Function):
    def forward(self, a):
        ### BEGIN SOLUTION
        return self.xp.log1p(self.xp.exp(a))
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        (a,) = self.inputs
        return (grad / ((-a).exp() + 1.0),)  # d softplus / da = sigmoid(a)
        ### END SOLUTION
'''

CHECKS = '''\
import numpy as np

import minigan as mg
from minigan.assignments.checking import Check, analytic_gradients, array64, compare_gradients, expect_close, get

X = np.linspace(-3.0, 3.0, 7)


def probe_forward(student, cache):
    return {"y": get(student, "Softplus")(mg.get_backend()).forward(X.copy())}


def judge_forward(data):
    expect_close("Softplus.forward", data["y"], np.log1p(np.exp(X)))


def probe_backward(student, cache):
    cls = get(student, "Softplus")
    return analytic_gradients(lambda x: cls.apply(x), [array64(X)])


def judge_backward(data):
    expected = analytic_gradients(lambda x: mg.softplus(x), [array64(X)])
    compare_gradients("Softplus.backward", [np.asarray(g, dtype=np.float64) for g in data], expected)


CHECKS = [Check("Softplus.forward", probe_forward, judge_forward, uses=("Softplus",)),
          Check("Softplus.backward", probe_backward, judge_backward, points=2, needs=("Softplus.forward",),
                uses=("Softplus",))]
'''


@pytest.fixture
def teacher(tmp_path):
    folder = tmp_path / "teacher"
    folder.mkdir()
    (folder / "assignments.json").write_text(json.dumps([{
        "name": "T1", "module": "t1_softplus", "title": "softplus by hand", "checks": "checks_t1",
        "graded": ["Softplus"], "forbidden": ["minigan.ops"]}]), encoding="utf-8")
    (folder / "t1_softplus.py").write_text(SOLUTION, encoding="utf-8")
    (folder / "checks_t1.py").write_text(CHECKS, encoding="utf-8")
    yield folder
    ASSIGNMENTS.pop("T1", None)


def test_a_plug_in_assignment_is_graded_from_its_folder(teacher, tmp_path, capsys):
    assert main(["--assignments", str(teacher), "T1", str(teacher / "t1_softplus.py")]) == 0
    assert "Score: 3/3 (2 of 2 checks passed)" in capsys.readouterr().out
    handout = tmp_path / "handout"
    assert make_student_cli.main(["--assignments", str(teacher), "--out", str(handout), "T1"]) == 0
    capsys.readouterr()
    assert main(["--assignments", str(teacher), "T1", str(handout / "t1_softplus.py")]) == 1
    out = capsys.readouterr().out
    assert "Score: 0/3" in out and "not implemented yet" in out
    copied = tmp_path / "copied.py"
    copied.write_text("from minigan.ops.activation import softplus\n" + SOLUTION, encoding="utf-8")
    assert main(["--assignments", str(teacher), "T1", str(copied)]) == 1
    assert "write it yourself: line 1: uses `minigan.ops.activation.softplus`" in capsys.readouterr().out


@pytest.mark.parametrize("spec, problem", [
    (None, "assignments.json not found"),
    ("{", "is not valid JSON"),
    ([{"name": "T2", "module": "m", "title": "t"}], "lacks checks"),
    ([{"name": "T2", "module": "m", "title": "t", "checks": "nope"}], "nope.py not found"),
    ([{"name": "T2", "module": "m", "title": "t", "checks": "c", "colour": "red"}], "unknown field 'colour'"),
])
def test_a_malformed_folder_is_one_error_line(tmp_path, capsys, spec, problem):
    if spec is not None:
        (tmp_path / "assignments.json").write_text(spec if isinstance(spec, str) else json.dumps(spec))
    assert main(["--assignments", str(tmp_path), "--list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigan.grade: error: ") and problem in err[0]
