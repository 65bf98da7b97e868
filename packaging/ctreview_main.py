"""Entry point of the frozen (PyInstaller) app: the same ``ctreview`` command line.

``ctreview`` with no command opens the GUI, ``ctreview --self-test`` checks
the installation, every other command works as in the Python install.
"""
import multiprocessing
import sys

if __name__ == "__main__":
    # Frozen children of multiprocessing re-enter here; let them run their task.
    multiprocessing.freeze_support()
    from ctreview.cli import main

    sys.exit(main())
