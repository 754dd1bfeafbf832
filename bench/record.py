"""What every benchmark shares: the repository root, a log line, git, and the one way a result is
written.

A benchmark makes a :class:`Record` first (the commit, the time and the load average are taken
then) and calls :meth:`Record.write` with its figures; the file is ``bench/results/<UTC date>-<name>[suffix].json``
(or the ``out`` it is given), its figures under a stamp that says where they come from:

* ``benchmark``, ``measured_at`` (UTC start) and ``finished_at`` (UTC, at the write);
* ``git``: the short commit, whether tracked files had uncommitted changes, and which;
* ``machine``: hostname, CPU count, total memory, Python version, platform;
* ``load_average``: 1/5/15-minute load average at the start and at the write, so a reader can see
  what else was running on the box.

A benchmark that writes after every step (a cut-off run keeps what it finished) calls
:meth:`Record.write` again; each write replaces the file whole (through a ``.tmp`` file).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def log(msg: str) -> None:
    """A timestamped progress line on stderr."""
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def git(*args: str) -> str:
    """Output of ``git *args`` in the repository (empty where git fails)."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.rstrip()


def load_average() -> dict[str, float]:
    return dict(zip(("1m", "5m", "15m"), (round(x, 2) for x in os.getloadavg()), strict=True))


def machine() -> dict:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def git_state() -> dict:
    """The short commit of HEAD and the tracked files changed against it (untracked files aside)."""
    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(changed), "uncommitted": changed}


def commit_of(result: dict) -> str | None:
    """The commit a results file was measured at: the stamp's, or what older files recorded."""
    return (
        (result.get("git") or {}).get("commit") or (result.get("code") or {}).get("git_commit") or result.get("commit")
    )


class Record:
    """The record of one run of the benchmark ``name``: the git state, start time and load average
    are taken when it is made, the rest at each :meth:`write`."""

    def __init__(self, name: str):
        self.name = name
        self.started = datetime.now(UTC)
        self.git = git_state()
        self.load_start = load_average()

    def path(self, suffix: str = "", ext: str = ".json") -> Path:
        """``bench/results/<UTC date of the start>-<name><suffix><ext>``."""
        return RESULTS / f"{self.started:%Y-%m-%d}-{self.name}{suffix}{ext}"

    def stamp(self) -> dict:
        return {
            "benchmark": self.name,
            "measured_at": self.started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git": self.git,
            "machine": machine(),
            "load_average": {"start": self.load_start, "end": load_average()},
        }

    def write(self, result: dict, out: Path | None = None, suffix: str = "") -> Path:
        """Write the stamp and ``result`` (whose keys must not be the stamp's) as JSON to ``out``, by
        default :meth:`path` with ``suffix``; returns the path written."""
        stamp = self.stamp()
        clash = stamp.keys() & result.keys()
        if clash:
            raise ValueError(f"result keys {sorted(clash)} are the stamp's")
        path = Path(out) if out else self.path(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(stamp | result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)
        log(f"wrote {path}")
        return path
