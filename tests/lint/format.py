#!/usr/bin/env python3
"""Every tracked C file is formatted with the project's .clang-format.

Runs `clang-format --dry-run -Werror` on the files git tracks (the file list
comes from git so that build trees and generated files are not checked);
prints the first complaints and fails. Fix with `make format`.
"""
import os
import shutil
import subprocess
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")


def main():
    cf = shutil.which("clang-format")
    if not cf:
        print("FAIL: clang-format not found (scripts/deps.sh installs it)")
        return 1
    try:
        files = subprocess.check_output(["git", "-C", ROOT, "ls-files", "*.c", "*.h"],
                                        text=True).split()
    except (OSError, subprocess.CalledProcessError):
        print("skipped: not a git checkout, no file list to check")
        return 0
    r = subprocess.run([cf, "--dry-run", "-Werror"] + files, cwd=ROOT, capture_output=True,
                       text=True)
    if r.returncode != 0:
        print("\n".join(r.stderr.splitlines()[:40]))
        print("FAIL: files differ from .clang-format; run `make format`")
        return 1
    print(f"ok: {len(files)} files formatted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
