"""The assignments and the grader: reference solutions score full marks, blank templates score zero
without crashing, planted bugs are caught with a message that points at them, student code that
loops forever, raises, dies or does not import is a failed check; make_student round-trips.

Student code runs in a sandboxed child and every verdict is the grader's (cheats against that:
tests/test_grade_attacks.py); time limits here are short to keep the file fast.
"""
import ast
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from minigan.assignments import ASSIGNMENTS, get_assignment
from minigan.assignments.make_student import BEGIN, END, MarkerError, blank_source, make_student
from minigan.grade import grade, main

NAMES = list(ASSIGNMENTS)


def solution_text(name):
    with open(get_assignment(name).solution_path, encoding="utf-8") as f:
        return f.read()


def planted(tmp_path, name, *replacements):
    """A copy of the reference solution of ``name`` with bugs planted by text replacement."""
    text = solution_text(name)
    for old, new in replacements:
        assert old in text, f"the solution of {name} no longer contains {old!r}"
        text = text.replace(old, new)
    path = tmp_path / get_assignment(name).filename
    path.write_text(text, encoding="utf-8")
    return str(path)


def failures(report):
    return {r.name: r.message for r in report.results if not r.passed}


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout")
    make_student(str(out))
    return out


@pytest.fixture(scope="module")
def a3_reference():
    """A3 trains a discriminator (a few seconds): grade its reference once."""
    return grade("A3", get_assignment("A3").solution_path, verbose=False)


# --- reference solutions and blank templates ---------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in NAMES if n != "A3"])
def test_reference_solution_scores_full_marks(name):
    report = grade(name, get_assignment(name).solution_path, verbose=False)
    assert len(report.results) >= 4 and report.score == report.total
    assert report.passed, failures(report)


def test_a3_reference_scores_full_marks(a3_reference):
    assert len(a3_reference.results) == 6 and a3_reference.total == 11
    assert a3_reference.passed, failures(a3_reference)


@pytest.mark.parametrize("name", NAMES)
def test_blank_template_scores_zero_without_crashing(name, handout):
    out = io.StringIO()
    report = grade(name, str(handout / get_assignment(name).filename), out=out)
    n_checks = len(get_assignment(name).load_checks())
    assert report.score == 0 and len(report.results) == n_checks and not report.passed
    total = sum(c.points for c in get_assignment(name).load_checks())
    assert out.getvalue().count("FAIL") == n_checks and f"Score: 0/{total:g} (0 of {n_checks}" in out.getvalue()
    for r in report.results:
        assert "not implemented yet" in r.message, (r.name, r.message)


def test_report_lists_each_check_and_the_score(capsys):
    assert main(["a2", get_assignment("A2").solution_path]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == len(get_assignment("A2").load_checks())
    assert "Score: 10/10 (9 of 9 checks passed)" in out


# --- planted bugs --------------------------------------------------------------------------------------
def test_sign_error_in_a_backward_is_pointed_at(tmp_path):
    path = planted(tmp_path, "A1", ("grad_b = grad * a if", "grad_b = -grad * a if"))
    report = grade("A1", path, verbose=False)
    failed = failures(report)
    assert set(failed) == {"Mul.backward", "Mul.backward is differentiable (double backward)"}
    message = failed["Mul.backward"]
    assert message.startswith("Mul.backward: gradient w.r.t. input 1 wrong at element")
    assert "got" in message and "expected" in message and "check the sign" in message
    assert report.score == report.total - 4  # a backward is worth 2 points, its double backward 2


def test_factor_error_and_non_differentiable_backward(tmp_path):
    path = planted(tmp_path, "A1", ("return (grad / a,)", "return (grad / (a * 2.0),)"),
                   ("return (grad * self.output(),)", "return (grad * mg.tensor(self.output().numpy()),)"))
    failed = failures(grade("A1", path, verbose=False))
    assert "off by a constant factor 0.5" in failed["Log.backward"]
    assert "Exp.backward" not in failed  # first order is right ...
    assert "not differentiable" in failed["Exp.backward is differentiable (double backward)"]  # ... second is not


def test_adam_without_bias_correction(tmp_path):
    path = planted(tmp_path, "A2", ("m_hat = m / (1.0 - b1 ** t)", "m_hat = m"),
                   ("v_hat = v / (1.0 - b2 ** t)", "v_hat = v"))
    failed = failures(grade("A2", path, verbose=False))
    assert list(failed) == ["adam_step: 10 steps match optim.Adam"]
    assert "after step 1" in failed["adam_step: 10 steps match optim.Adam"]
    assert "without bias correction" in failed["adam_step: 10 steps match optim.Adam"]


def test_adam_that_rebinds_instead_of_updating_in_place(tmp_path):
    path = planted(tmp_path, "A2", ("    m *= b1\n    m += (1.0 - b1) * grad\n",
                                    "    m = b1 * m + (1.0 - b1) * grad\n"))
    failed = failures(grade("A2", path, verbose=False))
    assert "m" in failed["adam_step updates param, m and v in place"]
    assert "in place" in failed["adam_step updates param, m and v in place"]


def test_penalty_with_squared_norm(tmp_path):
    path = planted(tmp_path, "A4", ("norms = (g * g).reshape(n, -1).sum(axis=1).sqrt()",
                                    "norms = (g * g).reshape(n, -1).sum(axis=1)"))
    failed = failures(grade("A4", path, verbose=False))
    message = failed["gradient_penalty matches minigan's (same eps, weight 10 and 1)"]
    assert "squared norm" in message
    double = "gradient of the penalty w.r.t. the critic's weights (double backward) matches finite differences"
    assert failed[double].startswith("not run until 'gradient_penalty matches minigan's")  # one root cause


def test_penalty_without_create_graph(tmp_path):
    path = planted(tmp_path, "A4", ("create_graph=True)", "create_graph=False)"))
    failed = failures(grade("A4", path, verbose=False))
    assert list(failed) == ["gradient of the penalty w.r.t. the critic's weights (double backward) matches "
                            "finite differences"]
    assert "create_graph=True" in next(iter(failed.values()))


def test_wrong_output_shapes(tmp_path):
    path = planted(tmp_path, "A1", ("return a.sum(axis=self.axes, keepdims=keepdims)", "return a.sum(axis=self.axes)"))
    message = failures(grade("A1", path, verbose=False))["Sum.forward"]
    assert "wrong output shape (3, 4), expected (3, 4, 1)" in message and "keepdims=True" in message
    path = planted(tmp_path, "A2", ("(1.0 - target) * log_1mp).mean()", "(1.0 - target) * log_1mp)"))
    failed = failures(grade("A2", path, verbose=False))
    assert "wrong output shape (8, 1)" in failed["binary_cross_entropy matches nn.functional.binary_cross_entropy"]


def test_student_exception_names_the_line(tmp_path):
    path = planted(tmp_path, "A2", ("y = x @ self.weight.T\n", "y = x @ self.weight\n"))
    message = failures(grade("A2", path, verbose=False))["Linear.forward matches nn.functional.linear"]
    assert message.startswith("ValueError: matmul: shapes")
    assert "Linear.forward, line" in message and "`y = x @ self.weight`" in message


def test_a3_bugs(tmp_path):
    path = planted(tmp_path, "A3", ("p / np.where(total > 0, total, 1.0)", "q / np.where(total > 0, total, 1.0)"),
                   ("steps=2000,", "steps=20,"))
    report = grade("A3", path, verbose=False)
    failed = failures(report)
    assert "expected p_data / (p_data + p_g)" in failed["optimal_discriminator: D* = p_data / (p_data + p_g)"]
    assert "max |D - D*| = " in failed["train_discriminator: max |D - D*| <= 0.05 on the central 99%"]
    assert "jsd: Jensen-Shannon divergence by numerical integration" not in failed


# --- code that misbehaves --------------------------------------------------------------------------------
def test_endless_loop_is_a_timed_out_check(tmp_path):
    path = planted(tmp_path, "A1", ("        return self.xp.tanh(a)\n", "        while True:\n            pass\n"))
    report = grade("A1", path, timeout=2.0, verbose=False)
    failed = failures(report)
    assert failed["Tanh.forward"] == "timed out after 2 s (an endless loop? far too many steps?)"
    assert set(failed) == {"Tanh.forward", "Tanh.backward", "Tanh.backward is differentiable (double backward)"}
    assert report.result("Sum.forward").passed  # a fresh worker took over after the kill


def test_worker_that_dies_and_file_that_does_not_import(tmp_path):
    path = planted(tmp_path, "A1", ("        return self.xp.exp(a)\n", "        import os\n        os._exit(3)\n"))
    report = grade("A1", path, verbose=False)
    assert report.result("Exp.forward").message == "the Python process running your code died (exit code 3)"
    assert report.result("Log.forward").passed
    broken = tmp_path / "broken.py"
    broken.write_text("def adam_step(:\n", encoding="utf-8")
    report = grade("A2", str(broken), verbose=False)
    assert report.score == 0
    assert all(r.message.startswith("could not import your file: SyntaxError") for r in report.results)
    looping = tmp_path / "looping.py"
    looping.write_text("while True:\n    pass\n", encoding="utf-8")
    report = grade("A4", str(looping), verbose=False, import_timeout=1.0)
    assert report.score == 0 and "importing your file did not finish within 1 s" in report.results[0].message


def test_missing_function(tmp_path):
    path = planted(tmp_path, "A2", ("def adam_step(", "def adam_update("))
    failed = failures(grade("A2", path, verbose=False))
    assert failed["adam_step: moments m and v"] == "your file defines no `adam_step` (was it renamed or deleted?)"


# --- the command line ---------------------------------------------------------------------------------------
def run_module(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120)


def test_cli_list_unknown_and_missing(tmp_path):
    listing = run_module("minigan.grade", "--list")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == NAMES
    unknown = run_module("minigan.grade", "A9", "x.py")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines() == ["minigan.grade: error: unknown assignment 'A9' (choose from "
                                                   "A0, A1, A2, A3, A4); see --list"]
    missing = run_module("minigan.grade", "A1", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_grades_and_sets_the_exit_status(handout):
    good = run_module("minigan.grade", "A4", get_assignment("A4").solution_path)
    assert good.returncode == 0 and "Score: 7/7" in good.stdout
    blank = run_module("minigan.grade", "A4", str(handout / "a4_gradient_penalty.py"))
    assert blank.returncode == 1 and "Score: 0/7" in blank.stdout and "Traceback" not in blank.stderr


# --- make_student -------------------------------------------------------------------------------------
def regions(text):
    """The bodies between the markers, and the text with every body removed."""
    bodies, outside, inside = [], [], None
    for line in text.splitlines(keepends=True):
        if line.strip().startswith(END):
            bodies.append("".join(inside))
            inside = None
        if inside is None:
            outside.append(line)
        else:
            inside.append(line)
        if line.strip().startswith(BEGIN):
            inside = []
    return bodies, "".join(outside)


def signatures_and_docstrings(text):
    """Module docstring, then name, arguments and docstring of every module- and class-level def
    (helpers nested inside a solution go away with it)."""
    tree = ast.parse(text)
    found = [(None, ast.get_docstring(tree))]
    nodes = list(tree.body)
    while nodes:
        node = nodes.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            args = ast.dump(node.args) if isinstance(node, ast.FunctionDef) else ""
            found.append((node.name, args, ast.get_docstring(node)))
        if isinstance(node, ast.ClassDef):
            nodes = list(node.body) + nodes
    return found


@pytest.mark.parametrize("name", NAMES)
def test_make_student_round_trip(name, handout):
    solution = solution_text(name)
    template = (handout / get_assignment(name).filename).read_text(encoding="utf-8")
    solution_bodies, solution_outside = regions(solution)
    template_bodies, template_outside = regions(template)
    assert len(solution_bodies) >= 1 and len(template_bodies) == len(solution_bodies)
    assert template_outside == solution_outside  # markers, signatures, docstrings, hints: unchanged
    assert signatures_and_docstrings(template) == signatures_and_docstrings(solution)
    for body in template_bodies:  # each region blanked to one raise at the region's indentation
        assert body.strip().startswith('raise NotImplementedError("') and body.count("\n") == 1
    assert blank_source(template) == template  # a template blanks to itself
    filled = template
    for blank, body in zip(template_bodies, solution_bodies):
        filled = filled.replace(blank, body, 1)
    assert filled == solution  # filling the regions back in gives the solution


def test_make_student_cli_and_overwrite_protection(tmp_path):
    result = run_module("minigan.assignments.make_student", "--out", str(tmp_path), "A1", "a2")
    assert result.returncode == 0
    assert sorted(os.listdir(tmp_path)) == ["a1_backward.py", "a2_layers.py"]
    assert make_student(str(tmp_path), ["A1"]) == [str(tmp_path / "a1_backward.py")]  # identical: fine
    (tmp_path / "a1_backward.py").write_text("# a student's work\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        make_student(str(tmp_path), ["A1"])
    refused = run_module("minigan.assignments.make_student", "--out", str(tmp_path), "A1")
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (tmp_path / "a1_backward.py").read_text(encoding="utf-8") == "# a student's work\n"
    make_student(str(tmp_path), ["A1"], force=True)
    assert "raise NotImplementedError" in (tmp_path / "a1_backward.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("source, problem", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "is not closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n", "inside a function body"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n  ### END SOLUTION\n", "indented differently"),
])
def test_bad_markers_are_refused(source, problem):
    with pytest.raises(MarkerError, match=problem):
        blank_source(source)


def test_blank_source_keeps_indentation_and_names_the_function():
    source = ("class A:\n    def f(self):\n        x = 1\n        ### BEGIN SOLUTION\n        return x\n"
              "        ### END SOLUTION\n")
    assert blank_source(source) == ("class A:\n    def f(self):\n        x = 1\n        ### BEGIN SOLUTION\n"
                                    '        raise NotImplementedError("A.f: write your solution here")\n'
                                    "        ### END SOLUTION\n")


# --- write it yourself: imports of the graded pieces score 0 for them ---------------------------------------
@pytest.mark.parametrize("name, replacements, copied", [
    ("A1", [("from minigan.tensor import Function\n", "from minigan.assignments.a1_backward import *\n")], "all"),
    ("A1", [("class Mul(Function):", "class Mul(mg.ops.elementwise.Mul):")], "Mul"),
    ("A2", [("class Linear(nn.Module):", "Linear = nn.Linear\n\n\nclass _Unused(nn.Module):")], "Linear"),
    ("A2", [("    floor = math.exp(-100.0)\n", "    return mg.nn.functional.binary_cross_entropy(p, target)\n")],
     "binary_cross_entropy"),
    ("A4", [("import minigan as mg\n", "import minigan as mg\nfrom minigan.gan.losses import gradient_penalty as gp\n")],
     "all"),
])
def test_graded_pieces_taken_from_minigan_score_zero(tmp_path, name, replacements, copied):
    report = grade(name, planted(tmp_path, name, *replacements), verbose=False)
    taken = [r for r in report.results if r.kind == "copied"]
    assert taken and all(r.message.startswith("write it yourself: line ") and r.earned == 0 for r in taken)
    if copied == "all":
        assert len(taken) == len(report.results) and report.score == 0
    else:  # only the checks of the piece that was taken; the rest is graded as usual
        assert {r.name for r in taken} == {c.name for c in get_assignment(name).load_checks() if copied in c.uses}
        assert all(r.passed for r in report.results if r.kind != "copied")


# --- blind spots: mistakes that used to get full marks -------------------------------------------------------
def test_numpy_in_a_forward_is_caught(tmp_path):
    path = planted(tmp_path, "A1", ("import minigan as mg  #", "import numpy as np\nimport minigan as mg  #"),
                   ("return self.xp.exp(a)", "return np.exp(a)"))
    failed = failures(grade("A1", path, verbose=False))
    assert set(failed) == {"Exp.forward", "Exp.backward", "Exp.backward is differentiable (double backward)"}
    assert "`np.exp` in Exp" in failed["Exp.forward"] and "self.xp.exp" in failed["Exp.forward"]


def test_numpy_arrays_mixed_into_a_forward_fail_on_the_strict_backend(tmp_path):
    path = planted(tmp_path, "A1", ("        return self.xp.tanh(a)\n",
                                    "        return self.xp.tanh(a) + __import__('numpy').zeros(a.shape)\n"))
    failed = failures(grade("A1", path, verbose=False, static=False))  # past the static rules: the backend
    assert failed["Tanh.forward"].startswith("MixedArrayError: np.add: a NumPy array of shape (3, 4) was mixed")
    assert "MatMul.forward" not in failed


def test_adam_with_eps_inside_the_square_root(tmp_path):
    path = planted(tmp_path, "A2", ("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"))
    failed = failures(grade("A2", path, verbose=False))
    assert list(failed) == ["adam_step: 10 steps match optim.Adam"]
    assert "eps belongs outside the square root" in failed["adam_step: 10 steps match optim.Adam"]


def test_c_of_g_that_assumes_the_theorem(tmp_path):
    path = planted(tmp_path, "A3", ("    def d_star(x):\n        return optimal_discriminator(p_data, p_g, x)\n\n"
                                    "    return value_function(d_star, p_data, p_g, lo, hi)\n",
                                    "    return -math.log(4.0) + 2.0 * jsd(p_data, p_g, lo, hi)\n"),
                   ("steps=2000,", "steps=20,"))
    failed = failures(grade("A3", path, verbose=False))
    message = failed["C(G) = -log 4 + 2 JSD (Theorem 1), minimum -log 4 at p_g = p_data"]
    assert "this is -log 4 + 2 JSD: compute C(G) as V(D*, G)" in message
    assert "jsd: Jensen-Shannon divergence by numerical integration" not in failed


def test_a3_swapped_labels_are_named(tmp_path):
    path = planted(tmp_path, "A3", ("np.concatenate([np.ones((batch_size, 1)), np.zeros((batch_size, 1))])",
                                    "np.concatenate([np.zeros((batch_size, 1)), np.ones((batch_size, 1))])"),
                   ("steps=2000,", "steps=300,"))
    message = failures(grade("A3", path, verbose=False))[f"train_discriminator: max |D - D*| <= 0.05 on the central 99%"]
    assert "labels swapped" in message


def test_per_element_eps_in_the_penalty(tmp_path):
    path = planted(tmp_path, "A4", ("eps = mg.rand(n, *([1] * (real.ndim - 1)), dtype=real.dtype)",
                                    "eps = mg.rand(*real.shape, dtype=real.dtype)"))
    failed = failures(grade("A4", path, verbose=False))
    assert list(failed) == ["gradient_penalty with eps=None draws random interpolation weights"]
    assert "one eps_i in [0, 1] per sample" in next(iter(failed.values()))


# --- marks at class scale ---------------------------------------------------------------------------------
def test_a_folder_is_graded_to_csv_and_json(tmp_path, handout):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text(solution_text("A4"), encoding="utf-8")
    (folder / "bob.py").write_text((handout / "a4_gradient_penalty.py").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "notes.txt").write_text("not a submission", encoding="utf-8")
    marks, data = tmp_path / "marks.csv", tmp_path / "marks.json"
    assert main(["A4", str(folder), "--workers", "2", "--csv", str(marks), "--json", str(data)]) == 0
    rows = list(csv.reader(marks.open(encoding="utf-8")))
    names = [c.name for c in get_assignment("A4").load_checks()]
    assert rows[0] == ["file", "score", "total", *names, "error"]
    assert [os.path.basename(r[0]) for r in rows[1:]] == ["alice.py", "bob.py"]
    assert rows[1][1:3] == ["7", "7"] and rows[1][3:7] == ["2", "1", "3", "1"] and rows[2][1:3] == ["0", "7"]
    reports = json.loads(data.read_text(encoding="utf-8"))
    assert [r["score"] for r in reports] == [7, 0] and reports[0]["checks"][2]["points"] == 3


def test_templates_shipped_match_the_solutions():
    for name in NAMES:
        a = get_assignment(name)
        with open(a.template_path, encoding="utf-8") as f:
            assert f.read() == blank_source(solution_text(name), a.filename), f"regenerate {a.template_path}"


# --- A0: the engine --------------------------------------------------------------------------------------
def test_a0_mistakes(tmp_path):
    path = planted(tmp_path, "A0", ("grads[id(parent)] = parent_grad if previous is None else previous + parent_grad",
                                    "grads[id(parent)] = parent_grad"))
    failed = failures(grade("A0", path, verbose=False))
    assert list(failed) == ["backward: gradients through shared nodes and broadcasting match minigan's"]
    assert "backward: gradient w.r.t. a (3, 4) wrong" in next(iter(failed.values()))
    path = planted(tmp_path, "A0", ("            parent_grad = unbroadcast(parent_grad, parent.shape)\n", ""))
    message = failures(grade("A0", path, verbose=False))["backward: gradients through shared nodes and "
                                                          "broadcasting match minigan's"]
    assert "w.r.t. b (4,) has shape (3, 4), expected (4,)" in message


def test_a0_recursive_order_and_borrowed_engine(tmp_path):
    recursive = ("    order, seen = [], set()\n\n    def visit(node):\n        if id(node) in seen:\n            return\n"
                 "        seen.add(id(node))\n        if node._ctx is not None:\n"
                 "            for parent in node._ctx.inputs:\n                if parent.requires_grad:\n"
                 "                    visit(parent)\n        order.append(node)\n\n    visit(root)\n    return order\n")
    text = solution_text("A0")
    start, end = text.index("    order, seen, stack"), text.index("    return order\n") + len("    return order\n")
    path = planted(tmp_path, "A0", (text[start:end], recursive))
    failed = failures(grade("A0", path, verbose=False))
    assert list(failed) == ["topological_order of a chain 5000 ops deep (no recursion limit)"]
    assert "RecursionError" in next(iter(failed.values()))
    borrowed = planted(tmp_path, "A0", ("    grads = {id(root): mg.ones_like(root)}\n",
                                        "    root.backward()\n    return [leaf.grad for leaf in leaves]\n"))
    failed = failures(grade("A0", borrowed, verbose=False))
    assert list(failed) == ["backward: gradients through shared nodes and broadcasting match minigan's"]
    assert "called minigan's own backward" in next(iter(failed.values()))
    borrowed = planted(tmp_path, "A0", ("        grad = grad.sum(axis=axes, keepdims=True)", "        grad = grad.sum_to(shape)"))
    message = failures(grade("A0", borrowed, verbose=False))["unbroadcast sums gradients back to the input's shape"]
    assert message.startswith("write it yourself: line ") and "`.sum_to`" in message
