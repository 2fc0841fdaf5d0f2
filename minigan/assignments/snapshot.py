"""minigan's own files as the grader found them when it started, before any student code ran.

Every child imports minigan from a fresh copy of this snapshot (so a student who edits minigan's
files edits a throwaway copy), and after every child the grader hashes the installed files again:
a change means the student's code reached the installation, which it could then use against the
next student. The grader fails that submission, writes the files back from the snapshot where it
can, and says so. (A change made *before* the grader started cannot be seen from here: install
minigan where students' code cannot write it, e.g. as another user or in a container.)
"""
import hashlib
import os

import minigan

PACKAGE_DIR = os.path.dirname(os.path.abspath(minigan.__file__))


class Snapshot:
    """The ``*.py`` files of the package at ``root`` (default: minigan's own), read into memory."""

    def __init__(self, root=PACKAGE_DIR, extra=None):
        self.root = root
        self.files = {}
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if name.endswith(".py"):
                    full = os.path.join(folder, name)
                    with open(full, "rb") as f:
                        self.files[os.path.relpath(full, root)] = f.read()
        self.extra = dict(extra or {})  # relative path under lib/ -> bytes (plug-in assignments' checks)
        self.digest = self._digest(self.files)

    @staticmethod
    def _digest(files):
        h = hashlib.sha256()
        for rel in sorted(files):
            h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
        return h.hexdigest()

    def write_to(self, lib, skip=()):
        """A copy of the package as ``lib/minigan/...`` (plus the extra files) for one child, less
        the relative paths in ``skip`` (the reference solutions: the child has no use for them)."""
        for rel, data in list(self.files.items()):
            if rel not in skip:
                self._write(os.path.join(lib, "minigan", rel), data)
        for rel, data in self.extra.items():
            self._write(os.path.join(lib, rel), data)

    @staticmethod
    def _write(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def changed_files(self):
        """Relative paths of installed files that differ from the snapshot (or appeared, or went)."""
        now = Snapshot(self.root)
        if now.digest == self.digest:
            return []
        names = set(now.files) | set(self.files)
        return sorted(n for n in names if now.files.get(n) != self.files.get(n))

    def restore(self, names):
        """Write the snapshot's version back (remove files that appeared); the names it could not."""
        failed = []
        for rel in names:
            path = os.path.join(self.root, rel)
            try:
                if rel in self.files:
                    self._write(path, self.files[rel])
                else:
                    os.remove(path)
            except OSError:
                failed.append(rel)
        return failed
