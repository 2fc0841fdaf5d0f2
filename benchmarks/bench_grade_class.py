"""Grade a class: N submissions of one assignment in a folder, ``--workers`` at a time.

    python benchmarks/bench_grade_class.py                 # 100 A1 submissions, 2 workers
    python benchmarks/bench_grade_class.py --n 20 --assignment A2 --workers 1

The submissions mix the reference solution, the blank handout and a planted sign error, so the
marks printed at the end can be checked by eye (a third each, roughly). Prints the wall time, the
time per submission, and the sandbox level used (see minigan/assignments/sandbox.py).
"""
import argparse
import collections
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minigan.assignments import get_assignment  # noqa: E402
from minigan.assignments.make_student import template_text  # noqa: E402
from minigan.assignments.sandbox import isolation_level  # noqa: E402
from minigan.grade import grade_folder  # noqa: E402

BUGS = {"A1": ("grad_b = grad * a if", "grad_b = -grad * a if"), "A2": ("m_hat = m / (1.0 - b1 ** t)", "m_hat = m"),
        "A3": ("steps=2000,", "steps=20,"), "A4": ("- 1.0) ** 2).mean()", "+ 1.0) ** 2).mean()")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="number of submissions")
    parser.add_argument("--assignment", default="A1", help="the assignment (A0 to A4)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded at once")
    args = parser.parse_args()
    assignment = get_assignment(args.assignment)
    with open(assignment.solution_path, encoding="utf-8") as f:
        solution = f.read()
    versions = [solution, template_text(assignment), solution.replace(*BUGS[assignment.name])]
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.n):
            with open(os.path.join(folder, f"s{i:03d}.py"), "w", encoding="utf-8") as f:
                f.write(versions[i % 3])
        start = time.perf_counter()
        reports = grade_folder(assignment.name, folder, workers=args.workers)
        seconds = time.perf_counter() - start
    marks = collections.Counter(f"{r.score:g}/{r.total:g}" for r in reports)
    print(f"{args.n} {assignment.name} submissions, {args.workers} workers, sandbox level {isolation_level()!r}, "
          f"{os.cpu_count()} CPUs")
    print(f"wall time {seconds:.1f} s, {seconds / args.n:.2f} s per submission")
    print("marks:", ", ".join(f"{k} x{v}" for k, v in sorted(marks.items())))


if __name__ == "__main__":
    main()
