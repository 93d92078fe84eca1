# -*- coding: utf-8 -*-
# Copyright: aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror the checkout into an ``ansible_collections/<ns>/<name>/`` layout.

usage: build_collection.py SOURCE_DIR DEST_DIR

ansible-test and the ``ansible_collections.aemops.ims`` Python imports need the
collection to sit at ``.../ansible_collections/aemops/ims/``. This copies the
files git knows about (tracked plus untracked-but-not-ignored, so new work
shows up before it is committed) into DEST_DIR and deletes everything else
there, so the layout matches the checkout exactly after every call.

``tests/output`` in DEST_DIR is kept: ansible-test keeps its delegation venv and
results there, and reusing them makes warm runs fast. Unchanged files are not
rewritten (size and mtime are compared; copies keep the source mtime).
Without git (e.g. an unpacked tarball) all files are walked instead.

DEST_DIR gets an empty git repository of its own (no commits). ansible-test
lists a collection's files with ``git ls-files`` of the nearest enclosing
``.git``; without one in the layout, a layout under the checkout's ignored
``build/`` would resolve to the checkout's repository and show no files at all
("All targets skipped"). The repository in the layout lists exactly the
mirrored files, minus what ``.gitignore`` and ``.git/info/exclude`` ignore.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import subprocess
import sys

# Never copied, wherever they appear (matched against each path component).
EXCLUDE_COMPONENTS = (
    ".git",
    ".venv",
    ".venv-*",
    ".venv*",
    ".tox",
    ".nox",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
)
# Never copied (matched against the whole relative path).
EXCLUDE_PATHS = (
    "build",
    "build/*",
    "dist",
    "dist/*",
    "tests/output",
    "tests/output/*",
    "*.pyc",
    "*.pyo",
    "*.tar.gz",
    ".coverage",
    ".coverage.*",
)
# Kept in DEST even though they are not in the source.
PRESERVE = (".git", "tests/output")
# Ignored by the layout's own git repository (what ansible-test must not see).
LAYOUT_EXCLUDES = """\
# written by tests/utils/build_collection.py
/tests/output/
__pycache__/
*.py[co]
.pytest_cache/
.hypothesis/
.mypy_cache/
.ruff_cache/
"""


def excluded(rel: str) -> bool:
    parts = rel.split("/")
    for part in parts:
        if any(fnmatch.fnmatchcase(part, pattern) for pattern in EXCLUDE_COMPONENTS):
            return True
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in EXCLUDE_PATHS)


def preserved(rel: str) -> bool:
    return any(rel == keep or rel.startswith(keep + "/") for keep in PRESERVE)


def source_files(src: str) -> list[str]:
    try:
        out = subprocess.run(
            ["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ).stdout.decode("utf-8")
        candidates = [path for path in out.split("\0") if path]
    except (OSError, subprocess.CalledProcessError):
        candidates = []
        for root, dirs, files in os.walk(src):
            rel_root = os.path.relpath(root, src)
            rel_root = "" if rel_root == "." else rel_root + "/"
            dirs[:] = [d for d in dirs if not excluded(rel_root + d)]
            candidates.extend(rel_root + f for f in files)
    # tracked files deleted in the work tree are skipped
    return sorted({p for p in candidates if not excluded(p) and os.path.lexists(os.path.join(src, p))})


def same_file(src: str, dst: str) -> bool:
    try:
        s = os.lstat(src)
        d = os.lstat(dst)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(s.st_mode) or stat.S_ISLNK(d.st_mode):
        return stat.S_ISLNK(s.st_mode) and stat.S_ISLNK(d.st_mode) and os.readlink(src) == os.readlink(dst)
    return stat.S_ISREG(d.st_mode) and s.st_size == d.st_size and int(s.st_mtime) == int(d.st_mtime) and stat.S_IMODE(s.st_mode) == stat.S_IMODE(d.st_mode)


def remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def sync(src: str, dest: str) -> tuple[int, int, list[str]]:
    files = source_files(src)
    wanted = set(files)
    wanted_dirs = {""}
    for rel in files:
        parent = os.path.dirname(rel)
        while parent and parent not in wanted_dirs:
            wanted_dirs.add(parent)
            parent = os.path.dirname(parent)

    removed: list[str] = []
    if os.path.isdir(dest):
        for root, dirs, names in os.walk(dest, topdown=True):
            rel_root = os.path.relpath(root, dest)
            rel_root = "" if rel_root == "." else rel_root + "/"
            for d in list(dirs):
                rel = rel_root + d
                if preserved(rel):
                    dirs.remove(d)
                elif rel not in wanted_dirs or os.path.islink(os.path.join(root, d)):
                    remove(os.path.join(root, d))
                    dirs.remove(d)
                    removed.append(rel + "/")
            for name in names:
                rel = rel_root + name
                if rel not in wanted:
                    os.unlink(os.path.join(root, name))
                    removed.append(rel)

    copied = 0
    for rel in files:
        s = os.path.join(src, rel)
        d = os.path.join(dest, rel)
        if same_file(s, d):
            continue
        if os.path.lexists(d):
            remove(d)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.islink(s):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d)
        copied += 1
    return len(files), copied, removed


def init_layout_repo(dest: str) -> None:
    git_dir = os.path.join(dest, ".git")
    if not os.path.isdir(git_dir):
        try:
            subprocess.run(["git", "init", "--quiet", dest], check=True, stdout=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError) as error:
            print("build_collection: warning: could not create %s (%s); ansible-test may not find the files" % (git_dir, error))
            return
    exclude = os.path.join(git_dir, "info", "exclude")
    os.makedirs(os.path.dirname(exclude), exist_ok=True)
    current = None
    if os.path.exists(exclude):
        with open(exclude, encoding="utf-8") as handle:
            current = handle.read()
    if current != LAYOUT_EXCLUDES:
        with open(exclude, "w", encoding="utf-8") as handle:
            handle.write(LAYOUT_EXCLUDES)


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: build_collection.py SOURCE_DIR DEST_DIR")
    src = os.path.abspath(argv[0])
    dest = os.path.abspath(argv[1])
    if dest == src or dest.startswith(src + os.sep) and not excluded(os.path.relpath(dest, src).replace(os.sep, "/")):
        sys.exit("build_collection: DEST_DIR must be outside SOURCE_DIR or in an excluded directory such as build/")
    parts = dest.split(os.sep)
    if len(parts) < 3 or parts[-3] != "ansible_collections":
        sys.exit("build_collection: DEST_DIR must end in ansible_collections/<namespace>/<name>")
    total, copied, removed = sync(src, dest)
    init_layout_repo(dest)
    shown = ", ".join(removed[:5]) + (", ..." if len(removed) > 5 else "")
    print("collection: %d files in %s (%d copied, %d removed%s)" % (total, dest, copied, len(removed), ": " + shown if removed else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
