"""The child side of the grader: import the student's file and run the checks' probes.

Started by :mod:`minigan.assignments.sandbox` as ``python -I -c ...`` in a scratch folder, with a
copy of minigan taken by the grader before any student code ran. It reads one JSON request from
stdin (the checks module, the probes to run, the file, a nonce), then writes one JSON line per
probe to the result pipe: raw data, or a failure. Nothing here decides a pass: the student's code
shares this process and could change anything in it, so the grader re-judges every result.
"""
import json
import linecache
import os
import resource
import sys
import warnings


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


def _import_student(path, module_name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look the module up here
    spec.loader.exec_module(module)
    return module


def main():
    request = json.loads(sys.stdin.readline())
    out = os.fdopen(int(request["fd"]), "w", encoding="utf-8")
    nonce, path = request["nonce"], request["path"]

    def send(**message):
        for stream in (sys.stdout, sys.stderr):  # the student's prints come before the result they led to
            try:
                stream.flush()
            except Exception:  # noqa: BLE001  (the student may have replaced or closed them)
                pass
        out.write(json.dumps({"nonce": nonce, **message}) + "\n")
        out.flush()

    # NOTE: no new processes from here on (fork bombs, orphans that outlive the grader); the hard
    # limit cannot be raised again without root. Root ignores it: the grader then relies on the PID
    # namespace, which is killed whole when grading ends.
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    import importlib

    import numpy as np
    from threadpoolctl import threadpool_limits

    import minigan as mg
    import minigan.strict  # noqa: F401  (registers the "strict" backend some probes run on)
    from minigan.assignments.checking import CheckFailed, encode

    threadpool_limits(1)  # tiny matrices: one BLAS thread is fastest, and no threads to start
    warnings.simplefilter("ignore")
    checks = {c.name: c for c in importlib.import_module(request["checks_module"]).CHECKS}
    try:
        student = _import_student(path, request["module_name"])
    except BaseException as err:  # noqa: BLE001  (anything the student's module does at import)
        send(event="import_failed", message=f"could not import your file: {describe_exception(err, path)}")
        return
    send(event="ready")
    cache = {}
    for name in request["checks"]:
        mg.set_backend("numpy")
        mg.set_default_dtype("float64")  # finite differences and tight tolerances need it
        mg.manual_seed(0)
        np.random.seed(0)
        try:
            with np.errstate(all="ignore"):
                data = encode(checks[name].probe(student, cache))
            send(event="result", check=name, status="data", data=data)
        except CheckFailed as failure:
            send(event="result", check=name, status="wrong", message=str(failure))
        except BaseException as err:  # noqa: BLE001  (the student's code may raise anything)
            send(event="result", check=name, status="error", message=describe_exception(err, path))
