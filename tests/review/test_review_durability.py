"""Decisions survive a killed process; two processes can write one workspace at once."""
import os
import signal
import sqlite3
import subprocess
import sys

from ctreview.review import Workspace

# A reviewer process: decides slice after slice as fast as it can and prints
# each decision id once decide() has returned (= acknowledged to the user).
WRITER = """
import sys
from ctreview.review import Workspace
ws = Workspace(sys.argv[1])
volume_id, n_slices, count, who = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print("ready", flush=True)
sys.stdin.readline()                      # start together with the other writers
for i in range(count):
    status = ("accept", "flag", "unsure")[i % 3]
    row = ws.decide(volume_id, i % n_slices, status, note=f"{who} {i}", reviewer=who)
    print(row["id"], flush=True)
ws.close()
"""


def _writer(db, volume_id, n_slices, count, who):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(volume_id), str(n_slices),
                             str(count), who],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_acknowledged_decisions_survive_sigkill(tmp_path, volume):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws:
        volume_id = ws.add_volume(volume)
    proc = _writer(db, volume_id, volume.shape[0], 100_000, "killed")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    acknowledged = [int(proc.stdout.readline()) for _ in range(40)]
    os.kill(proc.pid, signal.SIGKILL)       # mid-stream: it is deciding as fast as it can
    proc.wait()
    proc.stdout.close()
    proc.stdin.close()
    assert proc.returncode == -signal.SIGKILL
    with Workspace(db) as ws:                # reopening also runs the integrity check
        stored = {row["id"]: row for k in range(volume.shape[0])
                  for row in ws.history(volume_id, k)}
    assert set(acknowledged) <= set(stored)
    for i, decision_id in enumerate(acknowledged):
        assert stored[decision_id]["note"] == f"killed {i}"


def test_two_processes_write_at_once(tmp_path, volume):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws:
        volume_id = ws.add_volume(volume)
    count = 60
    procs = [_writer(db, volume_id, volume.shape[0], count, who) for who in ("ann", "ben")]
    for proc in procs:                       # both are ready: release them together
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    ids = [int(line) for out in outputs for line in out.split()]
    assert len(ids) == len(set(ids)) == 2 * count
    with Workspace(db) as ws:
        rows = [row for k in range(volume.shape[0]) for row in ws.history(volume_id, k)]
        assert sorted(row["id"] for row in rows) == sorted(ids)
        assert ws.reviewers(volume_id) in (["ann", "ben"], ["ben", "ann"])
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
