"""`./run demo` and the window name the missing X11 system libraries and the apt-get line that installs them."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctreview import qtlibs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("ldd"),
                                reason="the check is for Linux (ldd)")


@pytest.fixture
def plugin_lacking_libraries(tmp_path) -> Path:
    """A real shared library that needs libxcb-icccm.so.4 and a library that is gone."""
    if not shutil.which("cc"):
        pytest.skip("no C compiler to build a shared library")
    source = tmp_path / "x.c"
    source.write_text("int ctreview_probe(void) { return 1; }\n")
    for soname in ("libxcb-icccm.so.4", "libctreview-gone.so.1"):
        subprocess.run(["cc", "-shared", "-fPIC", "-o", str(tmp_path / soname), f"-Wl,-soname,{soname}",
                        str(source)], check=True)
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(plugin), str(source), "-L", str(tmp_path), "-Wl,--no-as-needed",
                    "-l:libxcb-icccm.so.4", "-l:libctreview-gone.so.1"], check=True)
    for soname in ("libxcb-icccm.so.4", "libctreview-gone.so.1"):
        (tmp_path / soname).unlink()  # as on a fresh machine
    return plugin


def test_missing_libraries_are_found_and_named_with_their_packages(plugin_lacking_libraries):
    missing = qtlibs.missing_libraries(plugin_lacking_libraries)
    assert "libctreview-gone.so.1" in missing  # (libxcb-icccm.so.4 too, unless this machine has its own)
    assert qtlibs.install_command(["libxcb-icccm.so.4", "libEGL.so.1", "libctreview-gone.so.1"]) == \
        "sudo apt-get install libxcb-icccm4 libegl1 libctreview-gone.so.1"


def test_the_run_check_says_what_to_install_unless_offscreen(plugin_lacking_libraries):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-m", "ctreview.qtlibs", str(plugin_lacking_libraries)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert run.stderr.startswith("error: libqxcb.so: ") and "sudo apt-get install " in run.stderr
    assert "libctreview-gone.so.1" in run.stderr and "QT_QPA_PLATFORM=offscreen" in run.stderr
    env["QT_QPA_PLATFORM"] = "offscreen"
    quiet = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_the_run_script_checks_before_starting_the_demo():
    script = (Path(__file__).resolve().parents[2] / "run").read_text()
    demo = script[script.index("    demo)"):script.index(";;", script.index("    demo)"))]
    assert demo.index("-m ctreview.qtlibs") < demo.index("ctreview\" demo")


def test_the_readme_names_every_package_of_the_check():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert all(package in readme for package in set(qtlibs.PACKAGES.values()))
