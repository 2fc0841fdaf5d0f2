""""Write it yourself": a static look at the submission, in the grader's process, before it runs.

A submission must not take the graded pieces from minigan (``from minigan.ops import Mul``,
``nn.Linear``, ``gradient_penalty``) or from the assignments themselves (the reference solutions
and the checks), nor reach for them by a back door (``importlib``, ``__import__``, ``exec``,
``sys.modules``, a ``getattr`` with a computed name). Each graded name must be *defined* in the file
(``class Mul`` / ``def adam_step``), not bound to something imported. This reads the source with
``ast`` and never runs it; the child's own view of its functions (``__code__.co_filename``, ...) is
the student's to forge, so it is not asked.

Not airtight (Python is too dynamic for that), but each way around it needs a line that a reader
of the submission sees at once, and the common ones are caught.
"""
import ast
from dataclasses import dataclass

ALWAYS_FORBIDDEN = ("minigan.assignments", "minigan.grade", "importlib", "builtins", "sys.modules", "gc")
BACK_DOORS = {"__import__", "exec", "eval", "compile", "globals", "vars", "__dict__", "__builtins__"}


@dataclass(frozen=True)
class Violation:
    line: int
    text: str
    where: str   # the graded name whose definition holds it, or "" at module level
    copied: bool = True  # taken rather than written (else: a mistake, such as np.exp in a forward)

    def __str__(self):
        return f"line {self.line}: {self.text}"


def find_violations(source, forbidden, graded, host_only=()):
    """Violations of the rules in ``source``: uses of the ``forbidden`` dotted names (prefixes,
    e.g. "minigan.ops"; ".sum_to" for a method name on any object), back doors, ``graded`` names not defined by a def/class of their own, and
    ``host_only`` modules (numpy) used inside a graded definition, where the backend's ``xp`` belongs."""
    tree = ast.parse(source)
    tree.body = [n for n in tree.body if not _is_main_block(n)]  # never runs under the grader
    visitor = _Visitor(tuple(forbidden) + ALWAYS_FORBIDDEN, set(graded), tuple(host_only))
    visitor.visit(tree)
    found = visitor.found
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}
    for name in sorted(graded):
        if name not in defined and name in visitor.bound:
            found.append(Violation(visitor.bound[name], f"`{name}` is bound to something else, not written here "
                                   f"(define it with `def` or `class`)", name))
    return sorted(found, key=lambda v: v.line)


def _is_main_block(node):
    """``if __name__ == "__main__":``, where students try their code out."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


class _Visitor(ast.NodeVisitor):
    def __init__(self, forbidden, graded, host_only=()):
        self.forbidden, self.graded, self.host_only = forbidden, graded, host_only
        self.aliases = {}   # local name -> dotted module path it stands for
        self.bound = {}     # graded name -> line where something other than a def/class binds it
        self.found, self.where = [], [""]

    def _flag(self, node, text, copied=True):
        self.found.append(Violation(node.lineno, text, self.where[-1], copied))

    def _check(self, node, dotted):
        hit = next((f for f in self.forbidden if dotted == f or dotted.startswith(f + ".")), None)
        if hit:
            self._flag(node, f"uses `{dotted}`" + (f" (from {hit})" if hit != dotted else ""))
        host = next((f for f in self.host_only if dotted.startswith(f + ".")), None)
        if host and self.where[-1]:
            short = "np." + dotted[len(host) + 1:]
            self._flag(node, f"`{short}` in {self.where[-1]}: on a GPU the arrays are CuPy's and NumPy functions "
                             f"do not take them; use the backend's namespace, self.xp.{dotted[len(host) + 1:]}",
                       copied=False)

    # --- definitions: remember which graded piece a node belongs to ----------------------------
    def _visit_definition(self, node):
        inside = node.name if (self.where[-1] == "" and node.name in self.graded) else self.where[-1]
        self.where.append(inside)
        self.generic_visit(node)
        self.where.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_definition

    # --- imports ----------------------------------------------------------------------------------
    def visit_Import(self, node):
        for alias in node.names:
            self._check(node, alias.name)
            local = alias.asname or alias.name.split(".")[0]
            self.aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
            self._bind(node, local)

    def visit_ImportFrom(self, node):
        module = ("." * node.level) + (node.module or "")
        if node.level:
            self._flag(node, f"a relative import (`from {module} import ...`): import minigan by its name")
        for alias in node.names:
            if alias.name == "*":
                self._flag(node, f"`from {module} import *`: import the names you use, and write the graded "
                                 "ones yourself")
                continue
            dotted = f"{node.module}.{alias.name}"
            bound = alias.asname or alias.name
            graded = self.where[-1] == "" and bound in self.graded
            self.where.append(bound if graded else self.where[-1])  # `from minigan.ops import Mul`
            self._check(node, dotted)
            self.where.pop()
            self.aliases[alias.asname or alias.name] = dotted
            self._bind(node, alias.asname or alias.name)

    def _bind(self, node, name):
        if name in self.graded and self.where[-1] == "":
            self.bound.setdefault(name, node.lineno)

    def visit_Assign(self, node):
        names = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        for name in names:
            self._bind(node, name)
        graded = [n for n in names if n in self.graded]
        if graded and self.where[-1] == "":  # `Linear = nn.Linear`: only Linear's checks are at stake
            self.where.append(graded[0])
            self.generic_visit(node)
            self.where.pop()
        else:
            self.generic_visit(node)

    # --- names, attributes, calls --------------------------------------------------------------------
    def visit_Name(self, node):
        if node.id in BACK_DOORS:
            self._flag(node, f"uses `{node.id}`: not allowed in a submission")
        elif node.id in self.aliases:
            self._check(node, self.aliases[node.id])

    def visit_Attribute(self, node):
        if node.attr in BACK_DOORS:
            self._flag(node, f"uses `.{node.attr}`: not allowed in a submission")
        elif "." + node.attr in self.forbidden:  # a method of minigan's, on whatever object: ".sum_to"
            self._flag(node, f"uses minigan's own `.{node.attr}`")
        dotted = _dotted(node, self.aliases)
        if dotted is not None:
            self._check(node, dotted)
            return  # the whole chain is checked; its prefixes would only repeat the message
        self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr", "delattr", "hasattr"):
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self._flag(node, f"`{node.func.id}` with a computed attribute name: write the name out")
            elif node.args and (base := _dotted(node.args[0], self.aliases)) is not None:
                self._check(node, f"{base}.{name.value}")
        self.generic_visit(node)


def _dotted(node, aliases):
    """'minigan.nn.Linear' for the expression ``nn.Linear`` after ``from minigan import nn``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id]] + parts[::-1])
