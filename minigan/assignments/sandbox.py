"""The child process that runs a student's code, and the walls around it.

What the child gets (each wall answers a cheat that worked on the old in-process grader):

* ``python -I``: no current folder, no user site, no PYTHON* variables on its path, so a
  ``numpy.py`` beside the submission is never imported; a minimal environment.
* a fresh scratch folder as its cwd, holding a copy of the submission and a copy of minigan taken
  by the grader *before* any student code ran (so a student who edits minigan's files edits a
  throwaway copy; the installed files are hashed after every child: minigan.assignments.snapshot);
* resource limits (``setrlimit``): CPU seconds, 2 GiB of address space, 16 MiB per written file,
  no core files, and (set by the runner before the student's import) no new processes;
* its own session and process group and, where the system allows (``unshare``), its own user,
  mount, network and PID namespaces: it cannot signal the grader (SIGKILL, SIGSTOP), every process
  in the namespace dies with it (nothing outlives grading), it has no network, and every mount but
  the scratch folder is read-only, with no capability left to change that (:func:`isolation_level`);
* stdout and stderr captured with a size cap; results on a separate pipe, one JSON line each,
  checked against a per-run nonce and the expected order, and judged by the grader only.

Where ``unshare`` is not allowed, or for a limit on processes and memory for the whole class, run
the grader inside a container: see minigan/assignments/GRADING.md.
"""
import functools
import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

OUTPUT_CAP = 16 * 1024           # bytes of the student's stdout+stderr kept for the report
RESULT_CAP = 8 * 1024 * 1024     # bytes accepted on the result pipe per child
MEMORY_LIMIT = 2 * 1024 ** 3     # RLIMIT_AS
FILE_LIMIT = 16 * 1024 ** 2      # RLIMIT_FSIZE
BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "from minigan.assignments.runner import main; main()")


# Inside fresh user, mount and PID namespaces: the scratch folder stays writable, every other mount
# becomes read-only, then every capability is dropped (so nothing can be remounted writable again).
JAIL = r"""
set -e
scratch="$1"; shift
mount --bind "$scratch" "$scratch"
cd "$scratch"  # the cwd inherited from Popen is the folder *under* the new mount
points=$(while read -r _ point _; do echo "$point"; done < /proc/self/mounts)
for point in $points; do
  [ "$point" = "$scratch" ] || mount -o remount,bind,ro "$point" 2>/dev/null || true
done
exec setpriv --no-new-privs --bounding-set -all --inh-caps -all -- "$@"
"""
LEVELS = ("jail", "namespaces", "basic")


def _prefix(level, scratch):
    """The command that wraps the child at ``level`` of isolation."""
    if level == "basic":
        return []
    unshare = [shutil.which("unshare") or "unshare", "--user", "--pid", "--net", "--fork", "--kill-child"]
    if level == "namespaces":
        return unshare
    return unshare + ["--map-root-user", "--mount", "sh", "-c", JAIL, "jail", scratch]


@functools.lru_cache(maxsize=None)
def isolation_level():
    """The strongest level this system allows: "jail" (read-only file system but the scratch, PID
    and user namespaces), "namespaces" (PID and user only), or "basic" (session and rlimits).
    MINIGAN_GRADE_ISOLATION=namespaces|basic chooses a weaker one (e.g. to test the others)."""
    wanted = os.environ.get("MINIGAN_GRADE_ISOLATION", "jail")
    if wanted not in LEVELS:
        raise ValueError(f"MINIGAN_GRADE_ISOLATION must be one of {', '.join(LEVELS)}, got {wanted!r}")
    if not sys.platform.startswith("linux"):
        return "basic"
    for level in LEVELS[LEVELS.index(wanted):-1]:
        with tempfile.TemporaryDirectory() as scratch:
            try:
                done = subprocess.run(_prefix(level, scratch) + ["true"], capture_output=True, timeout=20)
            except (OSError, subprocess.SubprocessError):
                continue
            if done.returncode == 0:
                return level
    return "basic"


def _limits(cpu_seconds):
    """Runs in the forked child before exec (subprocess's preexec_fn)."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _environment():
    """The child's whole environment: no HOME, no PYTHON*, one thread per library."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


class Child:
    """One sandboxed child: started on construction, read with :meth:`next_message`, always ended
    with :meth:`close` (which kills its whole process group and removes its scratch folder)."""

    def __init__(self, snapshot, submission, checks_module, module_name, check_names, cpu_seconds,
                 isolate=True, skip=(), extra=None):
        self.scratch = tempfile.mkdtemp(prefix="minigan-grade-")
        lib = os.path.join(self.scratch, "lib")
        snapshot.write_to(lib, skip)
        for name, data in (extra or {}).items():  # a plug-in assignment's checks module
            with open(os.path.join(lib, name), "wb") as f:
                f.write(data)
        path = os.path.join(self.scratch, os.path.basename(module_name) + ".py")
        shutil.copyfile(submission, path)
        self.nonce = secrets.token_hex(16)
        read_fd, write_fd = os.pipe()
        level = isolation_level() if isolate else "basic"
        command = [*_prefix(level, self.scratch), sys.executable, "-I", "-B", "-c", BOOTSTRAP, lib]
        self.process = subprocess.Popen(
            command, cwd=self.scratch, env=_environment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(write_fd,), start_new_session=True,
            preexec_fn=functools.partial(_limits, int(cpu_seconds) + 1))
        os.close(write_fd)
        self.results = os.fdopen(read_fd, "rb", buffering=0)
        request = {"fd": write_fd, "nonce": self.nonce, "path": path, "checks_module": checks_module,
                   "module_name": module_name, "checks": list(check_names)}
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.close()
        except OSError:
            pass  # it died at once; next_message says so
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.results, selectors.EVENT_READ, "results")
        self.selector.register(self.process.stdout, selectors.EVENT_READ, "output")
        self.output, self.output_dropped = bytearray(), 0
        self._pending, self._received, self._result_open = bytearray(), 0, True

    def next_message(self, limit):
        """The child's next message (a dict), or "timeout" after ``limit`` s, or "died" when its
        result pipe closed, or "flood" when it sent more than RESULT_CAP bytes."""
        deadline = time.monotonic() + limit
        while True:
            line = self._take_line()
            if line is not None:
                return line
            if not self._result_open:
                return "died"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            for key, _ in self.selector.select(remaining):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if key.data == "output":
                    self._keep_output(chunk, key.fileobj)
                elif not chunk:
                    self._result_open = False
                    self.selector.unregister(self.results)
                else:
                    self._received += len(chunk)
                    if self._received > RESULT_CAP:
                        return "flood"
                    self._pending += chunk

    def finish(self, limit=2.0):
        """Let the child exit on its own (reading the rest of its output) for up to ``limit`` s."""
        deadline = time.monotonic() + limit
        while self.selector.get_map() and (remaining := deadline - time.monotonic()) > 0:
            for key, _ in self.selector.select(remaining):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if key.data == "output":
                    self._keep_output(chunk, key.fileobj)
                elif not chunk:
                    self.selector.unregister(self.results)
                elif (received := self._received + len(chunk)) <= RESULT_CAP:
                    self._received = received  # anything after the last result is ignored

    def _take_line(self):
        end = self._pending.find(b"\n")
        if end < 0:
            return None
        line, self._pending = bytes(self._pending[:end]), self._pending[end + 1:]
        return line

    def _keep_output(self, chunk, stream):
        if not chunk:
            self.selector.unregister(stream)
            return
        room = max(0, OUTPUT_CAP - len(self.output))
        self.output += chunk[:room]
        self.output_dropped += max(0, len(chunk) - room)

    def student_output(self):
        """What the student's code printed (capped), as text."""
        text = self.output.decode("utf-8", "replace")
        if self.output_dropped:
            text += f"\n[... {self.output_dropped} more bytes of output not shown]"
        return text

    def exit_code(self):
        """The exit status (waiting a moment for it: the result pipe closes just before the exit)."""
        try:
            return self.process.wait(2)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        """Kill the child's whole process group, reap it, drain nothing more, remove the scratch."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.results, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.selector.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def decode_message(line, nonce):
    """A result line as a dict, or None if it is not a well-formed message of this run."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("nonce") != nonce:
        return None
    return message
