"""What grading produces: a result per check, a report per submission, and the ways to show them
(the report a student reads, the marks table, CSV and JSON for a teacher's spreadsheet)."""
import csv
import os
from dataclasses import asdict, dataclass, field


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str = ""
    kind: str = "pass"    # pass, wrong, error, timeout, crash, not run, copied, tampered
    blocked_by: str = ""  # not run because this check (the root cause) failed
    points: float = 1.0   # what the check is worth
    earned: float = 0.0
    probed: bool = False  # the check's own probe ran (a failed dependency may explain it better)


@dataclass
class GradeReport:
    assignment: str
    path: str
    results: list = field(default_factory=list)
    output: str = ""      # what the student's code printed (capped)
    error: str = ""       # a problem with the whole submission (tampering)

    @property
    def score(self):
        return sum(r.earned for r in self.results)

    @property
    def total(self):
        return sum(r.points for r in self.results)

    @property
    def passed(self):
        return bool(self.results) and all(r.passed for r in self.results)

    def result(self, name):
        return next(r for r in self.results if r.name == name)

    def as_dict(self):
        return {"assignment": self.assignment, "file": self.path, "score": self.score, "total": self.total,
                "passed": self.passed, "error": self.error, "checks": [asdict(r) for r in self.results],
                "output": self.output}


def _points(x):
    return f"{x:g}"


def print_report(report, assignment, out):
    print(f"{assignment.name}: {assignment.title}\nfile: {report.path}\n", file=out)
    width = max((len(r.name) for r in report.results), default=0)
    for r in report.results:
        mark = f"{_points(r.earned)}/{_points(r.points)}"
        print(f"  {'PASS' if r.passed else 'FAIL'}  {r.name:{width}s}  {mark}", file=out)
        if not r.passed:
            print("        " + r.message.replace("\n", "\n        "), file=out)
    if report.output.strip():
        print("\nOutput of your code (shown as printed, not part of the grade):", file=out)
        for line in report.output.rstrip("\n").split("\n"):
            print(f"  | {line}", file=out)
    n_passed = sum(r.passed for r in report.results)
    print(f"\nScore: {_points(report.score)}/{_points(report.total)} ({n_passed} of {len(report.results)} checks "
          "passed)", file=out, flush=True)


def write_csv(reports, out):
    names = [r.name for r in reports[0].results] if reports else []
    writer = csv.writer(out)
    writer.writerow(["file", "score", "total", *names, "error"])
    for report in reports:
        writer.writerow([report.path, _points(report.score), _points(report.total),
                         *[_points(r.earned) for r in report.results], report.error])


def print_table(reports, out):
    width = max((len(os.path.basename(r.path)) for r in reports), default=4)
    for r in reports:
        flag = "  (tampering: 0)" if r.error else ""
        print(f"{os.path.basename(r.path):{width}s}  {_points(r.score):>5s}/{_points(r.total)}{flag}", file=out)
