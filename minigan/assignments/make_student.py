"""Make the student version of assignments from the reference solutions.

    python -m minigan.assignments.make_student --out handout/            # every assignment
    python -m minigan.assignments.make_student --out handout/ A1 A3      # some of them

Each region between a ``### BEGIN SOLUTION`` and a ``### END SOLUTION`` line is replaced by
``raise NotImplementedError("<function>: write your solution here")`` at the region's indentation.
The markers stay, so a template blanks to itself and a filled-in file can be blanked again;
everything outside them (signatures, docstrings, hints) is copied unchanged, so the handout never
drifts from the solution it was made from. Regions must lie inside function bodies.

Where the solutions are not installed (a student's copy of minigan may ship without them), the
blank templates shipped in ``minigan/assignments/templates/`` are written instead; a test keeps
them equal to the blanked solutions.
"""
import argparse
import ast
import os
import sys

from minigan import __version__
from minigan.assignments import ASSIGNMENTS, get_assignment

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


class MarkerError(ValueError):
    """Unbalanced, mis-indented or misplaced solution markers."""


def _function_spans(tree):
    """(first line, last line, qualified name) of every function, outermost first."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def _enclosing_function(spans, lineno):
    inside = [s for s in spans if s[0] < lineno <= s[1]]
    return max(inside, key=lambda s: s[0])[2] if inside else None


def blank_source(source, filename="<source>"):
    """The student version of ``source``: each marked region's body replaced by a raise."""
    spans = _function_spans(ast.parse(source, filename))
    lines = source.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        if stripped.startswith(END):
            raise MarkerError(f"{filename}:{i + 1}: {END} without a {BEGIN} before it")
        if not stripped.startswith(BEGIN):
            out.append(line)
            i += 1
            continue
        indent = line[:len(line) - len(line.lstrip())]
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith((BEGIN, END))), None)
        if end is None or not lines[end].strip().startswith(END):
            raise MarkerError(f"{filename}:{i + 1}: {BEGIN} is not closed by an {END} before the next {BEGIN}")
        end_indent = lines[end][:len(lines[end]) - len(lines[end].lstrip())]
        if end_indent != indent:
            raise MarkerError(f"{filename}:{end + 1}: {END} is indented differently from its {BEGIN} (line {i + 1})")
        function = _enclosing_function(spans, i + 1)
        if function is None:
            raise MarkerError(f"{filename}:{i + 1}: a solution region must lie inside a function body")
        out += [line, f'{indent}raise NotImplementedError("{function}: write your solution here")\n', lines[end]]
        i = end + 1
    result = "".join(out)
    compile(result, filename, "exec")  # the handout must at least import
    return result


def template_text(assignment):
    """The handout of ``assignment``: its blanked solution, or the shipped template without one."""
    if os.path.exists(assignment.solution_path):
        with open(assignment.solution_path, encoding="utf-8") as f:
            return blank_source(f.read(), assignment.filename)
    if os.path.exists(assignment.template_path):
        with open(assignment.template_path, encoding="utf-8") as f:
            return f.read()
    raise FileNotFoundError(f"{assignment.name}: neither the solution {assignment.solution_path} nor the template "
                            f"{assignment.template_path} exists; reinstall minigan")


def make_student(out_dir, names=None, force=False):
    """Write the student versions of the named assignments (default: all) into ``out_dir``;
    the list of paths written. An existing, different file is only overwritten with ``force``."""
    assignments = [get_assignment(n) for n in (names or ASSIGNMENTS)]
    os.makedirs(out_dir, exist_ok=True)
    planned = []
    for a in assignments:
        text = template_text(a)
        target = os.path.join(out_dir, a.filename)
        if os.path.exists(target) and not force:
            with open(target, encoding="utf-8") as f:
                if f.read() != text:
                    raise FileExistsError(f"{target} exists and differs from the template "
                                          "(a student's work?); pass force=True / --force to overwrite it")
        planned.append((target, text))
    for target, text in planned:
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
    return [target for target, _ in planned]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.assignments.make_student",
                                     description="Write the student templates of minigan's assignments.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("assignments", nargs="*", metavar="NAME",
                        help=f"assignments to write (default: all of {', '.join(ASSIGNMENTS)})")
    parser.add_argument("--out", required=True, help="folder to write the templates into (created if needed)")
    parser.add_argument("--force", action="store_true", help="overwrite files that differ from the template")
    parser.add_argument("--assignments", metavar="DIR", action="append", default=[], dest="folders",
                        help="a teacher's assignments folder (its assignments.json); then name its assignments")
    args = parser.parse_args(argv)
    from minigan.assignments.plugins import PluginError, load_folder
    try:
        for folder in args.folders:
            load_folder(folder)
        paths = make_student(args.out, args.assignments or None, force=args.force)
    except (KeyError, OSError, MarkerError, PluginError) as err:   # OSError: an unwritable or missing --out
        print(f"make_student: error: {err.args[0] if isinstance(err, KeyError) else err}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
