"""A teacher's own assignments, from a folder: ``python -m minigan.grade --assignments DIR T1 file.py``.

The folder holds ``assignments.json`` (data only: what each assignment is called, its file, its
checks module, the names the student writes, the minigan pieces they may not take), the marked
solutions (``### BEGIN SOLUTION`` / ``### END SOLUTION``, blanked by ``make_student --assignments
DIR``) and the checks modules, written like ``checks_a1.py`` with the helpers of
:mod:`minigan.assignments.checking`::

    [{"name": "T1", "module": "t1_softplus", "title": "softplus, forward and backward",
      "checks": "checks_t1", "graded": ["Softplus"], "forbidden": ["minigan.ops"]}]

The checks are the teacher's code, trusted like minigan's own: read once into memory, imported
from that copy in the grader (for the judges) and written into each child's folder (for the
probes), so a student who edits the folder's files changes nothing of a grading in progress.
"""
import json
import os
import sys
import types

from minigan.assignments import ASSIGNMENTS, Assignment

SPEC = "assignments.json"
FIELDS = {"name": str, "module": str, "title": str, "checks": str, "graded": list, "forbidden": list,
          "host_only": list}
REQUIRED = ("name", "module", "title", "checks")


class PluginError(ValueError):
    """A malformed assignments folder; the message names the file and the fix."""


def load_folder(folder):
    """Register the assignments described in ``folder/assignments.json``; the list of them."""
    spec_path = os.path.join(folder, SPEC)
    try:
        with open(spec_path, encoding="utf-8") as f:
            entries = json.load(f)
    except FileNotFoundError:
        raise PluginError(f"{spec_path} not found: an assignments folder needs one (see minigan.assignments."
                          "plugins)") from None
    except ValueError as err:
        raise PluginError(f"{spec_path} is not valid JSON ({err})") from None
    if not isinstance(entries, list):
        raise PluginError(f"{spec_path} must hold a list of assignments, got a {type(entries).__name__}")
    return [_register(folder, spec_path, entry) for entry in entries]


def _register(folder, spec_path, entry):
    if not isinstance(entry, dict):
        raise PluginError(f"{spec_path}: each assignment is an object with {', '.join(REQUIRED)}")
    for key, value in entry.items():
        if key not in FIELDS:
            raise PluginError(f"{spec_path}: unknown field {key!r} (known: {', '.join(FIELDS)})")
        if not isinstance(value, FIELDS[key]):
            raise PluginError(f"{spec_path}: {key!r} must be a {FIELDS[key].__name__}, got {value!r}")
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise PluginError(f"{spec_path}: assignment {entry.get('name', '?')!r} lacks {', '.join(missing)}")
    name = entry["name"].upper()
    if name in ASSIGNMENTS and ASSIGNMENTS[name].folder != os.path.abspath(folder):
        raise PluginError(f"{spec_path}: assignment {name} already exists; choose another name")
    for key in ("module", "checks"):
        if not entry[key].isidentifier():
            raise PluginError(f"{spec_path}: {key!r} must be a Python module name, got {entry[key]!r}")
    checks_path = os.path.join(folder, entry["checks"] + ".py")
    try:
        with open(checks_path, "rb") as f:
            source = f.read()
    except OSError:
        raise PluginError(f"{checks_path} not found: assignment {name} names it as its checks") from None
    module_name = f"minigan_teacher_{name.lower()}_{entry['checks']}"
    module = types.ModuleType(module_name)
    module.__file__ = checks_path
    sys.modules[module_name] = module
    exec(compile(source, checks_path, "exec"), module.__dict__)  # the teacher's own code, not a student's
    if not isinstance(getattr(module, "CHECKS", None), list):
        raise PluginError(f"{checks_path} must define CHECKS, a list of minigan.assignments.checking.Check")
    assignment = Assignment(name, entry["module"], entry["title"], entry["checks"],
                            graded=tuple(entry.get("graded", ())), forbidden=tuple(entry.get("forbidden", ())),
                            host_only=tuple(entry.get("host_only", ())), checks_module=module_name,
                            folder=os.path.abspath(folder), checks_source=source)
    ASSIGNMENTS[name] = assignment
    return assignment
