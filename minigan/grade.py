"""The grader: ``python -m minigan.grade A1 path/to/a1_backward.py`` (one file, a report) or
``python -m minigan.grade A1 submissions/ --csv marks.csv --workers 2`` (a folder, a marks table).

The student's code never runs in this process. Each submission is first read as text (``ast``:
graded pieces taken from minigan or from the assignments score 0, "write it yourself"), then run
in a sandboxed child (:mod:`minigan.assignments.sandbox`: ``python -I``, a scratch folder, resource
limits, its own session and namespaces, output captured). The child only *measures*: it calls the
student's functions and sends raw numbers back as JSON. Every comparison and every mark is made
here, against values this process computes itself from minigan's verified code, which it loaded
before any student code ran. Checks carry points (weights in the assignment's CHECKS); the score is
the sum of the points of the checks passed. Exit status: 0 when every check of a file passed, 1
otherwise; 2 for a usage error. A check that runs past its time limit, a child that dies, code that
floods the result channel or writes to it, or changes minigan's installed files, fails.
"""
import argparse
import functools
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from minigan import __version__
from minigan.assignments import ASSIGNMENTS, get_assignment
from minigan.assignments.checking import CheckFailed, _decode
from minigan.assignments.marks import CheckResult, GradeReport, print_report, print_table, write_csv
from minigan.assignments.plugins import PluginError, load_folder
from minigan.assignments.sandbox import Child, decode_message
from minigan.assignments.snapshot import Snapshot
from minigan.assignments.static import find_violations

IMPORT_TIMEOUT = 30.0          # seconds to import the student's file (python -I, numpy, minigan: ~1-2 s)
MAX_SOURCE = 1024 * 1024       # bytes: a bigger "solution" is not a solution


@functools.lru_cache(maxsize=None)
def installation():
    """minigan's files as found when grading first started: the children's copy, and the yardstick
    against which the installed files are checked after every child."""
    return Snapshot()


def _solutions():
    """The reference solutions' paths inside the package: never copied into a child."""
    return {os.path.join("assignments", a.filename) for a in ASSIGNMENTS.values()}


_JUDGE_LOCK = threading.Lock()  # judges set minigan's global backend, dtype and seed


def _judge(check, data):
    import numpy as np

    import minigan as mg
    with _JUDGE_LOCK:
        mg.set_backend("numpy")
        mg.set_default_dtype("float64")
        mg.manual_seed(0)
        try:
            with np.errstate(all="ignore"):
                check.judge(data)
            return True, "", "pass"
        except CheckFailed as failure:
            return False, str(failure), "wrong"
        except Exception as err:  # noqa: BLE001  (malformed data from the child: a failure, never a crash)
            return False, f"the grader could not use the result your code sent ({type(err).__name__}: {err})", "error"


# --- one submission ---------------------------------------------------------------------------
def _static_failures(assignment, path, checks):
    """{check name: message} for checks that the file's text already fails, or a message for all."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SOURCE + 1)
        if len(raw) > MAX_SOURCE:
            return f"your file is larger than {MAX_SOURCE // 1024} KiB"
        violations = find_violations(raw.decode("utf-8"), assignment.forbidden, assignment.graded,
                                     assignment.host_only)
    except SyntaxError as err:
        return f"could not import your file: SyntaxError: {err.msg} (line {err.lineno})"
    except (UnicodeDecodeError, ValueError) as err:
        return f"could not read your file: {err}"
    failed = {}
    for v in violations:
        for c in checks:
            if not v.where or v.where in c.uses:
                failed.setdefault(c.name, (f"write it yourself: {v} (0 points for what it is used in)" if v.copied else str(v), v.copied))
    return failed


def run_checks(assignment_name, path, timeout=None, import_timeout=IMPORT_TIMEOUT, static=True, isolate=True,
               watch_installation=True):
    """Grade the file at ``path``: a GradeReport without printing. ``timeout`` (seconds) replaces
    every check's own time limit. ``static=False`` skips the write-it-yourself reading (tests use it
    to show that the sandbox alone holds); ``isolate=False`` skips the namespaces;
    ``watch_installation=False`` leaves the check of minigan's files to the caller (grade_folder)."""
    assignment = get_assignment(assignment_name)
    snapshot = installation()
    checks = assignment.load_checks()
    report = GradeReport(assignment.name, str(path))
    results = {}
    pre = _static_failures(assignment, path, checks) if static else {}
    if isinstance(pre, str):  # the file cannot be read or parsed: every check fails with that
        pre = {c.name: (pre, None) for c in checks}
    for name, (message, copied) in pre.items():
        results[name] = CheckResult(name, False, message, {True: "copied", False: "wrong", None: "error"}[copied])
    outputs, pending = [], [c for c in checks if c.name not in results]
    while pending:
        todo = _runnable(pending, results)
        if not todo:
            break
        child = Child(snapshot, str(path), assignment.checks_import, f"student_{assignment.module}",
                      [c.name for c in todo], cpu_seconds=import_timeout + sum(_limit(c, timeout) for c in todo),
                      isolate=isolate, skip=_solutions(),
                      extra={assignment.checks_import + ".py": assignment.checks_source} if assignment.checks_source else None)
        try:
            problem = _talk(child, todo, results, timeout, import_timeout)
        finally:
            child.close()
            outputs.append(child.student_output())
        if watch_installation:
            problem = problem or installation_problem(snapshot)
        if problem:
            report.error = problem
            for c in checks:
                results[c.name] = CheckResult(c.name, False, problem, "tampered")
            break
        pending = [c for c in checks if c.name not in results]
    for c in checks:  # in order: a check blocked by an earlier one's verdict is reported as not run
        blocked = _blocked(c, results) if not report.error else None
        if blocked and (c.name not in results or results[c.name].probed):
            results[c.name] = blocked
        r = results.get(c.name) or CheckResult(c.name, False, "not run", "not run")
        r.points = c.points
        r.earned = c.points if r.passed else 0.0
        report.results.append(r)
    report.output = "".join(outputs)
    return report


def installation_problem(snapshot):
    """A message if minigan's installed files changed since the snapshot (they are then restored)."""
    changed = snapshot.changed_files()
    if not changed:
        return ""
    left = snapshot.restore(changed)
    return (f"your code changed minigan's installed files ({', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}); "
            f"the grader {'restored them' if not left else 'could not restore ' + ', '.join(left)}")


def _limit(check, timeout):
    return timeout if timeout is not None else check.timeout


def _blocked(check, results):
    """A "not run" result if a check this one needs failed (or one it reuses did not finish)."""
    failed = [results[n] for n in check.needs if n in results and not results[n].passed]
    failed += [results[n] for n in check.reuses if n in results and results[n].kind not in ("pass", "wrong")]
    if not failed:
        return None
    cause = results[failed[0].blocked_by] if failed[0].blocked_by else failed[0]
    verb = "passes" if cause.name in check.needs else "runs to the end"
    return CheckResult(check.name, False, f"not run until '{cause.name}' {verb} ({cause.message})", "not run",
                       blocked_by=cause.name)


def _runnable(pending, results):
    """The pending checks not blocked by a verdict already known (those are recorded as not run).
    A check whose dependency runs in the same child is run too, and blocked afterwards if need be."""
    todo = []
    for check in pending:
        blocked = _blocked(check, results)
        if blocked:
            results[check.name] = blocked
        else:
            todo.append(check)
    return todo


def _talk(child, todo, results, timeout, import_timeout):
    """Read the child's messages for ``todo``; judge each. A message that breaks the protocol
    returns the problem (the whole submission then fails); a timeout or death ends this child."""
    first = _receive(child, import_timeout)
    if isinstance(first, str) or first.get("event") != "ready":
        if isinstance(first, dict) and first.get("event") == "import_failed":
            message, kind = str(first.get("message", ""))[:2000], "error"
        elif first == "timeout":
            message, kind = (f"importing your file did not finish within {import_timeout:g} s (code at module "
                             "level that never ends?)"), "timeout"
        elif first == "flood":
            return "your code flooded the grader's result channel"
        elif first == "died":
            message, kind = f"the Python process importing your file died (exit code {child.exit_code()})", "crash"
        else:
            return "your code wrote to the grader's result channel (a message that is not the grader's)"
        for c in todo:
            results[c.name] = CheckResult(c.name, False, message, kind)
        return ""
    for check in todo:
        limit = _limit(check, timeout)
        message = _receive(child, limit)
        if message == "timeout":
            results[check.name] = CheckResult(check.name, False, f"timed out after {limit:g} s (an endless loop? "
                                              "far too many steps?)", "timeout")
            return ""
        if message == "flood":
            return "your code flooded the grader's result channel"
        if message == "died":
            child.close()
            results[check.name] = CheckResult(check.name, False, "the Python process running your code died "
                                              f"(exit code {child.exit_code()})", "crash")
            return ""
        if isinstance(message, str) or message.get("event") != "result" or message.get("check") != check.name:
            return "your code wrote to the grader's result channel (a message out of order)"
        status = message.get("status")
        if status == "data":
            try:
                data = _decode(message.get("data"), 0)
            except (ValueError, TypeError, RecursionError):
                data = None
            result = CheckResult(check.name, *_judge(check, data))
        elif status in ("wrong", "error"):  # a failure: the student could only forge it against themselves
            result = CheckResult(check.name, False, str(message.get("message", ""))[:2000], status)
        else:
            return "your code wrote to the grader's result channel (a message of unknown status)"
        result.probed = True
        results[check.name] = result
    child.finish()  # every result is in: let it exit, so that its last prints reach the report
    return ""


def _receive(child, limit):
    """The next message as a dict, "timeout", "died", "flood", or "forged" for a line not of this run."""
    line = child.next_message(limit)
    if isinstance(line, str):
        return line
    message = decode_message(line, child.nonce)
    return "forged" if message is None else message


def grade(assignment_name, path, timeout=None, verbose=True, out=None, import_timeout=IMPORT_TIMEOUT, **options):
    """Grade the file at ``path``; a GradeReport. With ``verbose`` the report is printed to ``out``
    (default: sys.stdout). ``timeout`` replaces every check's own time limit (seconds)."""
    assignment = get_assignment(assignment_name)
    report = run_checks(assignment.name, str(path), timeout, import_timeout, **options)
    if verbose:
        print_report(report, assignment, sys.stdout if out is None else out)
    return report


def grade_folder(assignment_name, folder, workers=None, timeout=None, import_timeout=IMPORT_TIMEOUT):
    """Grade every ``*.py`` file in ``folder`` (sorted by name), ``workers`` at a time; the reports.

    minigan's installed files are checked after every submission. With several graded at once, a
    change cannot be pinned on one of them: the files are restored, and every submission that was
    running since the last clean check is graded again, alone, where the check names the culprit."""
    paths = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".py"))
    snapshot = installation()  # taken before the first child starts
    lock, in_flight, since_clean, suspects = threading.Lock(), set(), set(), set()

    def one(path):
        with lock:
            in_flight.add(path)
        report = run_checks(assignment_name, path, timeout, import_timeout, watch_installation=False)
        with lock:
            in_flight.discard(path)
            since_clean.add(path)
            if installation_problem(snapshot):
                suspects.update(in_flight | since_clean)
            since_clean.clear()
        return report

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        reports = dict(zip(paths, pool.map(one, paths)))
    for path in sorted(suspects):  # alone now: a change is this submission's doing
        reports[path] = run_checks(assignment_name, path, timeout, import_timeout)
    return [reports[p] for p in paths]


def _write(target, writer):
    if target == "-":
        writer(sys.stdout)
    else:
        with open(target, "w", encoding="utf-8", newline="") as f:
            writer(f)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.grade",
                                     description="Grade students' solutions of a minigan assignment.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("assignment", nargs="?", help="the assignment, e.g. A1 (see --list)")
    parser.add_argument("path", nargs="?", help="the student's file, or a folder of submissions (*.py)")
    parser.add_argument("--list", action="store_true", help="list the assignments and exit")
    parser.add_argument("--assignments", metavar="DIR", action="append", default=[],
                        help="also load a teacher's assignments from DIR (its assignments.json; repeatable)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="time limit per check in seconds (default: each check's own, 10 to 120 s)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE ('-': stdout)")
    parser.add_argument("--csv", metavar="FILE", help="also write the marks as CSV to FILE ('-': stdout), "
                                                      "one row per submission, one column per check")
    parser.add_argument("--workers", type=int, default=None,
                        help="submissions graded at once for a folder (default: the number of CPUs)")
    args = parser.parse_args(argv)
    try:
        for folder in args.assignments:
            load_folder(folder)
    except PluginError as err:
        print(f"minigan.grade: error: {err}", file=sys.stderr)
        return 2
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
        assignment = get_assignment(args.assignment)
    except KeyError as err:
        print(f"minigan.grade: error: {err.args[0]}; see --list", file=sys.stderr)
        return 2
    if not os.path.exists(args.path):
        print(f"minigan.grade: error: no such file: {args.path}", file=sys.stderr)
        return 2
    if args.timeout is not None and not (0 < args.timeout < float("inf")):   # NaN fails too
        print(f"minigan.grade: error: --timeout must be a positive finite number of seconds, got {args.timeout:g}",
              file=sys.stderr)
        return 2
    if not os.path.isdir(args.path) and not args.path.endswith(".py"):
        print(f"minigan.grade: error: {args.path} is not a Python file; give the student's .py file "
              "or a folder of them", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"minigan.grade: error: --workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    folder = os.path.isdir(args.path)
    if folder:
        reports = grade_folder(assignment.name, args.path, args.workers, args.timeout)
        if args.csv != "-" and args.json != "-":
            print_table(reports, sys.stdout)
    else:
        reports = [run_checks(assignment.name, args.path, args.timeout)]
        if args.csv != "-" and args.json != "-":
            print_report(reports[0], assignment, sys.stdout)
    if args.csv:
        _write(args.csv, lambda f: write_csv(reports, f))
    if args.json:
        data = [r.as_dict() for r in reports] if folder else reports[0].as_dict()
        _write(args.json, lambda f: f.write(json.dumps(data, indent=1) + "\n"))
    if folder:
        return 0
    return 0 if reports[0].passed else 1


if __name__ == "__main__":
    sys.exit(main())
