"""Build hook: the top-level ``resources/`` folder travels inside the wheel.

The repository keeps ``resources/`` at the top level (icons, profiles, demo
model); installed packages find it as ``ctreview/resources``. Editable
installs read the repository folder directly (see ``ctreview.resources``).
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithResources(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        src = Path(__file__).resolve().parent / "resources"
        dst = Path(self.build_lib) / "ctreview" / "resources"
        shutil.copytree(src, dst, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithResources})
