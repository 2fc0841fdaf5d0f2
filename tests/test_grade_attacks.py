"""Cheats against the grader, each made from an attempt that used to score full marks (issue 11):
every one must leave a blank handout at zero (or fail with a clear error), never give marks.

Each submission is a blank template plus the cheat at module level (or inside a function), so a
score above 0 can only come from the cheat. Destructive cheats aim only at files and processes this
file creates (a marker in their names), so a failing test cannot harm the machine it runs on.
"""
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

import minigan
from minigan.assignments import get_assignment
from minigan.assignments.make_student import template_text
from minigan.assignments.sandbox import isolation_level
from minigan.grade import grade

REPO = os.path.dirname(os.path.dirname(os.path.abspath(minigan.__file__)))
namespaces = pytest.mark.skipif(isolation_level() == "basic", reason="needs unshare (user + PID namespaces)")
jail = pytest.mark.skipif(isolation_level() != "jail", reason="needs unshare with user + mount namespaces")


def cheat(tmp_path, name, code, filename=None):
    """The blank template of ``name`` with ``code`` appended."""
    path = tmp_path / (filename or get_assignment(name).filename)
    path.write_text(template_text(get_assignment(name)) + "\n" + textwrap.dedent(code), encoding="utf-8")
    return str(path)


def run_cli(*args, cwd, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "minigan.grade", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": REPO, **(env or {})})


def running(marker):
    """Processes whose command line contains ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


# --- the check table, the result channel, the report ------------------------------------------------
def test_replacing_the_checks_at_import_changes_nothing(tmp_path):
    path = cheat(tmp_path, "A4", """
        from minigan.assignments import checks_a4 as table
        from minigan.assignments.checking import Check
        table.CHECKS[:] = [Check(c.name, lambda s, cache: [1.0, 1.0], lambda d: None) for c in table.CHECKS]
        for c in table.CHECKS:
            object.__setattr__(c, "probe", lambda s, cache: [1.0, 1.0])
    """)
    report = grade("A4", path, verbose=False, static=False)  # the sandbox alone must hold ...
    assert report.score == 0
    report = grade("A4", path, verbose=False)  # ... and the static reading says why
    assert report.score == 0 and all(r.kind == "copied" for r in report.results)
    assert "write it yourself" in report.results[0].message and "minigan.assignments" in report.results[0].message


def test_forged_messages_on_the_result_pipe_score_zero(tmp_path):
    # finds the pipe and the nonce in the runner's frame, then sends a "pass" for every check
    path = cheat(tmp_path, "A4", """
        import json, sys
        frame = sys._getframe()
        while frame is not None and "nonce" not in frame.f_locals:
            frame = frame.f_back
        nonce, out = frame.f_locals["nonce"], frame.f_locals["out"]
        out.write(json.dumps({"nonce": nonce, "event": "ready"}) + "\\n")
        for name in frame.f_locals["request"]["checks"]:
            for status in ("pass", "data"):
                out.write(json.dumps({"nonce": nonce, "event": "result", "check": name, "status": status,
                                      "data": [0.0, 0.0]}) + "\\n")
        out.flush()
    """)
    report = grade("A4", path, verbose=False, static=False)
    assert report.score == 0 and report.error.startswith("your code wrote to the grader's result channel")


def test_flooding_the_result_pipe_scores_zero(tmp_path):
    path = cheat(tmp_path, "A4", """
        import os
        for fd in range(3, 20):
            try:
                os.write(fd, b"x" * (9 * 1024 * 1024))
            except OSError:
                pass
    """)
    report = grade("A4", path, verbose=False, static=False)
    assert report.score == 0 and report.error  # flooded, or a line that is not the grader's


def test_a_fake_report_is_shown_as_the_students_output(tmp_path):
    path = cheat(tmp_path, "A4", """
        print("  PASS  gradient_penalty matches minigan's")
        print("Score: 7/7 (4 of 4 checks passed)")
    """)
    result = run_cli("A4", path, cwd=tmp_path)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 1 and lines[-1] == "Score: 0/7 (0 of 4 checks passed)"
    assert "  | Score: 7/7 (4 of 4 checks passed)" in lines  # marked as the student's


def test_printing_50_megabytes_is_capped(tmp_path):
    path = cheat(tmp_path, "A4", 'print("spam " * 10_000_000)\n')
    report = grade("A4", path, verbose=False)
    assert report.score == 0 and len(report.output) < 20_000 and "more bytes of output not shown" in report.output


def test_allocating_3_6_gb_fails_within_the_memory_limit(tmp_path):
    path = cheat(tmp_path, "A4", "import numpy as np\nhog = np.ones(450_000_000)\n")
    report = grade("A4", path, verbose=False)
    assert report.score == 0
    assert all("MemoryError" in r.message for r in report.results), report.results[0].message


# --- the files around the grader ---------------------------------------------------------------------
def test_a_numpy_py_beside_the_submission_never_runs_in_the_grader(tmp_path):
    (tmp_path / "numpy.py").write_text(f"open({str(tmp_path / 'PWNED')!r}, 'w').close()\n"
                                       "raise SystemExit('the student numpy ran')\n", encoding="utf-8")
    solution = tmp_path / "a4_gradient_penalty.py"
    shutil.copyfile(get_assignment("A4").solution_path, solution)
    result = run_cli("A4", "a4_gradient_penalty.py", cwd=tmp_path)
    assert result.returncode == 0 and "Score: 7/7" in result.stdout, result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_deleting_files_in_the_current_folder_only_empties_the_scratch(tmp_path):
    (tmp_path / "marks.csv").write_text("precious\n", encoding="utf-8")
    path = cheat(tmp_path, "A4", """
        import os
        for name in os.listdir("."):
            if os.path.isfile(name):
                os.remove(name)
    """, filename="sub.py")
    result = run_cli("A4", "sub.py", cwd=tmp_path)
    assert result.returncode == 1 and (tmp_path / "marks.csv").exists() and os.path.exists(path)


@jail
def test_writing_outside_the_scratch_folder_fails(tmp_path):
    outside = tmp_path / "outside.txt"
    path = cheat(tmp_path, "A4", f"""
        import os
        with open("inside.txt", "w") as f:  # the scratch folder (the cwd) is writable ...
            f.write("fine")
        for target in ({str(outside)!r}, {str(tmp_path / "a4_gradient_penalty.py")!r}):
            try:  # ... nothing else is
                open(target, "a").write("x")
            except OSError as err:
                print(target, err.strerror)
    """)
    report = grade("A4", path, verbose=False, static=False)
    assert report.score == 0 and not outside.exists() and report.output.count("Read-only file system") == 2


@pytest.fixture
def installed_copy(tmp_path):
    """A copy of the minigan package, as if installed, that a cheat may write to."""
    root = tmp_path / "site"
    shutil.copytree(os.path.dirname(minigan.__file__), root / "minigan",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


def grade_with(root, *args, cwd, isolation="jail"):
    code = f"import sys; sys.path.insert(0, {str(root)!r}); from minigan.grade import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-I", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MINIGAN_GRADE_ISOLATION": isolation})


@pytest.mark.parametrize("isolation", [pytest.param("jail", marks=jail), pytest.param("namespaces", marks=namespaces)])
def test_rewriting_the_installed_checker_is_stopped_or_undone(tmp_path, installed_copy, isolation):
    checker = installed_copy / "minigan" / "assignments" / "checks_a4.py"
    original = checker.read_text(encoding="utf-8")
    path = cheat(tmp_path, "A4", f"""
        with open({str(checker)!r}, "a") as f:
            f.write("\\nfor c in CHECKS: object.__setattr__(c, 'judge', lambda data: None)\\n")
    """)
    tampering = grade_with(installed_copy, "A4", path, cwd=tmp_path, isolation=isolation)
    assert tampering.returncode == 1 and "Score: 0/7" in tampering.stdout
    if isolation == "jail":  # the write itself fails: every mount but the scratch is read-only
        assert "OSError: [Errno 30] Read-only file system" in tampering.stdout
    else:  # the write succeeds, and is caught and undone
        assert "changed minigan's installed files (assignments/checks_a4.py); the grader restored them" \
            in tampering.stdout
    assert checker.read_text(encoding="utf-8") == original
    blank = tmp_path / "blank" / "a4_gradient_penalty.py"
    blank.parent.mkdir()
    blank.write_text(template_text(get_assignment("A4")), encoding="utf-8")
    assert "Score: 0/7" in grade_with(installed_copy, "A4", str(blank), cwd=tmp_path).stdout  # the next student


def test_grading_and_handouts_work_without_the_solution_files(tmp_path, installed_copy):
    for name in ("A1", "A2", "A3", "A4"):
        os.remove(installed_copy / "minigan" / "assignments" / get_assignment(name).filename)
    handout = tmp_path / "handout"
    code = (f"import sys; sys.path.insert(0, {str(installed_copy)!r}); from minigan.assignments.make_student "
            f"import main; sys.exit(main(['--out', {str(handout)!r}]))")
    made = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert (handout / "a3_optimal_d.py").read_text(encoding="utf-8") == template_text(get_assignment("A3"))
    graded = grade_with(installed_copy, "A3", str(handout / "a3_optimal_d.py"), "--timeout", "20", cwd=tmp_path)
    assert graded.returncode == 1 and "Score: 0/11 (0 of 6 checks passed)" in graded.stdout, graded.stderr
    assert "not implemented yet" in graded.stdout and "Traceback" not in graded.stderr


# --- the processes around the grader -------------------------------------------------------------------
@namespaces
@pytest.mark.parametrize("signal_name", ["SIGSTOP", "SIGKILL"])
def test_the_grader_cannot_be_stopped_or_killed(tmp_path, signal_name):
    marker = f"GRADER-TARGET-{signal_name}"
    folder = tmp_path / marker
    folder.mkdir()
    path = cheat(folder, "A4", f"""
        import os, signal
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if b"{marker}" in open(f"/proc/{{pid}}/cmdline", "rb").read():
                    os.kill(int(pid), signal.{signal_name})
            except OSError:
                pass
        for target in (os.getppid(), 1):
            for call in (os.kill, os.killpg):
                try:
                    call(target, signal.{signal_name})
                except OSError:
                    pass
    """)
    try:
        result = run_cli("A4", path, cwd=tmp_path, timeout=60)
    finally:
        for pid in running(marker):  # a stopped grader would otherwise stay behind
            os.kill(pid, 9)
    assert result.returncode == 1 and "Score: 0/7" in result.stdout


@namespaces
def test_no_process_outlives_grading_and_a_pipe_does_not_hang(tmp_path):
    path = cheat(tmp_path, "A4", """
        import os, subprocess
        for _ in range(20):  # a bounded fork bomb: each child sleeps, in a session of its own
            try:
                subprocess.Popen(["sleep", "97.531"], start_new_session=True)
            except OSError:
                break
    """)
    start = time.monotonic()
    result = subprocess.run(f"{sys.executable} -m minigan.grade A4 {path} | tail -1", shell=True, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": REPO})
    assert time.monotonic() - start < 30 and result.stdout.strip() == "Score: 0/7 (0 of 4 checks passed)"
    time.sleep(0.2)
    assert running("97.531") == []


@namespaces
def test_in_a_folder_only_the_culprit_is_blamed(tmp_path, installed_copy):
    folder = tmp_path / "class"
    folder.mkdir()
    checker = installed_copy / "minigan" / "assignments" / "checks_a4.py"
    for name in ("ann", "ben", "cat"):
        shutil.copyfile(get_assignment("A4").solution_path, folder / f"{name}.py")
    cheat(folder, "A4", f"""
        with open({str(checker)!r}, "a") as f:
            f.write("# a comment is enough to be caught\\n")
    """, filename="ben.py")
    result = grade_with(installed_copy, "A4", str(folder), "--workers", "3", "--csv", "-", cwd=tmp_path,
                        isolation="namespaces")  # where the write succeeds
    rows = [line.split(",") for line in result.stdout.strip().splitlines()[1:]]
    assert [(os.path.basename(r[0]), r[1]) for r in rows] == [("ann.py", "7"), ("ben.py", "0"), ("cat.py", "7")]
    assert "changed minigan's installed files" in rows[1][-1] and rows[0][-1] == rows[2][-1] == ""


@namespaces
def test_the_child_has_no_network(tmp_path):
    path = cheat(tmp_path, "A4", """
        import socket
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=2)
        except OSError as err:
            print("refused:", err.errno)
    """)
    report = grade("A4", path, verbose=False, static=False)
    assert report.score == 0 and "refused: 101" in report.output  # ENETUNREACH: not even loopback is up
