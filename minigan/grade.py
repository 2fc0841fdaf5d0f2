"""The grader: ``python -m minigan.grade A1 path/to/a1_backward.py``.

Imports the student's file by path and runs the assignment's checks, printing PASS or FAIL with a
message for each, then ``Score: passed/total``; the exit status is 0 only if every check passed
(2 for a usage error such as an unknown assignment). ``--list`` lists the assignments.

The student's code runs in a separate worker process, one check at a time, each under a time
limit: an endless loop is killed and reported ("timed out after 10 s"), and the next check gets
a fresh worker. Exceptions from the student's code (NotImplementedError: "not implemented yet")
and wrong answers are failed checks with a message, never a crashed grader.
"""
import argparse
import importlib.util
import linecache
import multiprocessing
import os
import sys
import warnings
from dataclasses import dataclass, field

from minigan import __version__
from minigan.assignments import ASSIGNMENTS, get_assignment

IMPORT_TIMEOUT = 30.0  # seconds to import the student's file (the fork start method takes ~no time)


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str = ""
    kind: str = "pass"    # pass, wrong (a wrong answer), error (an exception), timeout, crash, not run
    blocked_by: str = ""  # not run because this check (the root cause) failed


@dataclass
class GradeReport:
    assignment: str
    path: str
    results: list = field(default_factory=list)

    @property
    def score(self):
        return sum(r.passed for r in self.results)

    @property
    def total(self):
        return len(self.results)

    @property
    def passed(self):
        return self.score == self.total

    def result(self, name):
        return next(r for r in self.results if r.name == name)


# --- the worker process (runs the student's code) ----------------------------------------------
def _import_student(path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up here
    spec.loader.exec_module(module)
    return module


def describe_exception(err, path):
    """A one-line account of an exception raised while running the student's code."""
    where = _student_frame(err, path)
    if isinstance(err, NotImplementedError):
        return "not implemented yet" + (f": {where.split(':')[0]}" if where else "")
    if isinstance(err, SystemExit):
        return "your code called exit() / sys.exit()" + (f" ({where})" if where else "")
    if isinstance(err, SyntaxError):
        return f"SyntaxError: {err.msg} (line {err.lineno})"
    text = f"{type(err).__name__}: {err}".strip()
    if where:
        return f"{text} (raised in your {where})"
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return text + (f" (raised at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno})" if tb else "")


def _student_frame(err, path):
    """'Mul.backward, line 42: `return grad * b`' for the deepest frame in the student's file."""
    target, found = os.path.realpath(path), None
    tb = err.__traceback__
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename) == target:
            found = (tb.tb_frame.f_code, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return ""
    code, line = found
    name = getattr(code, "co_qualname", code.co_name)  # co_qualname: Python 3.11+
    source = linecache.getline(path, line).strip()
    name = "module level" if name == "<module>" else name
    return f"{name}, line {line}" + (f": `{source}`" if source else "")


def _worker_main(conn, assignment_name, path):
    """Import the student's file, then run the checks named on ``conn`` until told to stop."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import minigan as mg
    from minigan.assignments.checking import CheckFailed

    # NOTE: one BLAS thread: the checks' matrices are tiny, and two threads contending with
    # whatever else runs on a 2-core machine made a 3 s training run take 30 s.
    threadpool_limits(1)
    warnings.simplefilter("ignore")
    assignment = get_assignment(assignment_name)
    try:
        student = _import_student(path, f"student_{assignment.module}")
    except BaseException as err:  # noqa: BLE001  (anything the student's module does at import)
        conn.send(("import_failed", f"could not import your file: {describe_exception(err, path)}"))
        return
    conn.send(("ready", ""))
    checks = {c.name: c for c in assignment.load_checks()}
    cache = {}
    while True:
        name = conn.recv()
        if name is None:
            return
        mg.set_backend("numpy")
        mg.set_default_dtype("float64")  # finite differences need it
        mg.manual_seed(0)
        np.random.seed(0)
        try:
            with np.errstate(all="ignore"):
                checks[name].run(student, cache)
            conn.send((True, "", "pass"))
        except CheckFailed as failure:
            conn.send((False, str(failure), "wrong"))
        except BaseException as err:  # noqa: BLE001  (the student's code may raise anything)
            conn.send((False, describe_exception(err, path), "error"))


class _Worker:
    """One worker process and its pipe."""

    def __init__(self, assignment_name, path):
        methods = multiprocessing.get_all_start_methods()
        # fork starts in milliseconds with minigan already imported; spawn elsewhere (Windows)
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, assignment_name, path), daemon=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with BLAS threads alive
            self.process.start()
        child.close()

    def receive(self, limit):
        """The worker's next message, "timeout" after ``limit`` seconds, or "died" if it exited."""
        if not self.conn.poll(limit):
            self.stop()
            return "timeout"
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(1.0)
            return "died"

    def stop(self):
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


# --- the parent: schedule checks, enforce time limits, report -----------------------------------
def run_checks(assignment_name, path, timeout=None, import_timeout=IMPORT_TIMEOUT):
    """Run every check of the assignment on the file at ``path``; a list of CheckResult.

    ``timeout`` (seconds) replaces every check's own time limit; ``import_timeout`` limits the
    import of the student's file in each new worker.
    """
    assignment = get_assignment(assignment_name)
    checks = assignment.load_checks()
    results, worker = {}, None
    try:
        for i, check in enumerate(checks):
            failed = [results[n] for n in check.needs if not results[n].passed]
            failed += [results[n] for n in check.reuses if results[n].kind not in ("pass", "wrong")]
            if failed:
                cause = results[failed[0].blocked_by] if failed[0].blocked_by else failed[0]
                verb = "passes" if cause.name in check.needs else "runs to the end"
                results[check.name] = CheckResult(check.name, False, f"not run until '{cause.name}' {verb} "
                                                  f"({cause.message})", "not run", blocked_by=cause.name)
                continue
            if worker is None:
                worker = _Worker(assignment.name, path)
                status = worker.receive(import_timeout)
                if status != ("ready", ""):
                    message = _import_failure(status, import_timeout)
                    worker.stop()
                    for rest in checks[i:]:
                        results[rest.name] = CheckResult(rest.name, False, message, "error")
                    return [results[c.name] for c in checks]
            limit = timeout if timeout is not None else check.timeout
            worker.conn.send(check.name)
            reply = worker.receive(limit)
            if reply == "timeout":
                results[check.name] = CheckResult(check.name, False, f"timed out after {limit:g} s "
                                                  "(an endless loop? far too many steps?)", "timeout")
                worker = None
            elif reply == "died":
                results[check.name] = CheckResult(check.name, False, "the Python process running your code died "
                                                  f"(exit code {worker.process.exitcode})", "crash")
                worker.stop()
                worker = None
            else:
                results[check.name] = CheckResult(check.name, *reply)
    finally:
        if worker is not None:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(2.0)
            worker.stop()
    return [results[c.name] for c in checks]


def _import_failure(status, limit):
    if status == "timeout":
        return f"importing your file did not finish within {limit:g} s (code at module level that never ends?)"
    if status == "died":
        return "the Python process importing your file died"
    return status[1]


def grade(assignment_name, path, timeout=None, verbose=True, out=None, import_timeout=IMPORT_TIMEOUT):
    """Grade the file at ``path``; a GradeReport. With ``verbose`` the report is printed to ``out``
    (default: sys.stdout). ``timeout`` replaces every check's own time limit (seconds)."""
    assignment = get_assignment(assignment_name)
    report = GradeReport(assignment.name, str(path), run_checks(assignment.name, str(path), timeout, import_timeout))
    if verbose:
        out = sys.stdout if out is None else out
        print(f"{assignment.name}: {assignment.title}\nfile: {path}\n", file=out)
        for r in report.results:
            print(f"  {'PASS' if r.passed else 'FAIL'}  {r.name}", file=out)
            if not r.passed:
                print("        " + r.message.replace("\n", "\n        "), file=out)
        print(f"\nScore: {report.score}/{report.total}", file=out, flush=True)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.grade",
                                     description="Grade a student's solution of a minigan assignment.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("assignment", nargs="?", help="the assignment, e.g. A1 (see --list)")
    parser.add_argument("path", nargs="?", help="the student's file, e.g. a1_backward.py")
    parser.add_argument("--list", action="store_true", help="list the assignments and exit")
    parser.add_argument("--timeout", type=float, default=None,
                        help="time limit per check in seconds (default: each check's own, 10 to 120 s)")
    args = parser.parse_args(argv)
    if args.list:
        for a in ASSIGNMENTS.values():
            print(f"{a.name}  {a.filename:24s} {a.title}")
        return 0
    if args.assignment is None or args.path is None:
        parser.print_usage(sys.stderr)
        print("minigan.grade: error: give an assignment and a file, e.g. `python -m minigan.grade A1 "
              "a1_backward.py` (or --list)", file=sys.stderr)
        return 2
    try:
        get_assignment(args.assignment)
    except KeyError as err:
        print(f"minigan.grade: error: {err.args[0]}; see --list", file=sys.stderr)
        return 2
    if not os.path.isfile(args.path):
        print(f"minigan.grade: error: no such file: {args.path}", file=sys.stderr)
        return 2
    if args.timeout is not None and args.timeout <= 0:
        print(f"minigan.grade: error: --timeout must be positive, got {args.timeout:g}", file=sys.stderr)
        return 2
    report = grade(args.assignment, args.path, timeout=args.timeout)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
