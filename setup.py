"""Build hook (everything else is in pyproject.toml).

templates/ and lesson_data/ stay at the repository's top level, but a wheel must carry them: this
build_py copies them into the built package as generator/_shipped/, where generator/resources.py
finds them. An editable install skips the copy and reads the top-level folders directly.

setuptools' scratch folder moves from ./build to ./.setuptools-build, because ./build is gen's
output folder and gen refuses to replace a folder it did not make.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = {"templates": "**/*", "lesson_data": "*.yaml"}     # top-level folder -> files to ship


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        shipped = Path(self.build_lib, "generator", "_shipped")
        shutil.rmtree(shipped, ignore_errors=True)      # the build folder is reused: drop deleted files
        for folder, pattern in SHIPPED.items():
            files = sorted(p for p in (HERE / folder).glob(pattern)
                           if p.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                                      for part in p.relative_to(HERE).parts))
            if not files:
                raise SystemExit(f"setup.py: {HERE / folder} holds no {pattern} files; a wheel without them "
                                 "cannot build anything (building from an sdist? MANIFEST.in must include it).")
            for src in files:
                dest = Path(shipped, folder, src.relative_to(HERE / folder))
                self.mkpath(str(dest.parent))
                self.copy_file(str(src), str(dest))


setup(cmdclass={"build_py": BuildPyWithData},
      options={"build": {"build_base": ".setuptools-build"}})
