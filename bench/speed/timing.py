"""Measuring for the benchmarks: one ``spark-submit`` of a job timed (wall and CPU seconds of the
process tree, the load average before it, peak resident memory of driver and Python workers, its
exit code and its run report ``<reports>/runs/<job>/latest.json``), CPU seconds of a live process
tree. The stamp of a result (commit, machine, load) is :mod:`bench.record`'s."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import threading
import time
from pathlib import Path

import psutil

from bench.record import log
from reviewlake.jobs.nightly import exit_code


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants, each with its reaped children
    (Linux ``/proc``): here the driver, its Spark JVM and the Python workers. Unlike wall time it
    hardly moves when other work shares the cores."""
    ticks: dict[int, int] = {}
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks[int(entry)] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += ticks.get(p, 0)
        stack.extend(children.get(p, []))
    return total / os.sysconf("SC_CLK_TCK")


class PeakMemory:
    """Samples a process tree every ``every_s``: resident memory of driver (the spark-submit JVM
    and the Python driver) and Python workers (``pyspark.daemon`` and its forks), peaks in MiB (of
    each sum, and of the largest JVM, non-worker Python process and Python worker alone), and
    each process's own CPU seconds as last seen (``cpu_seconds``: their sum).

    CPU is sampled because ``getrusage(RUSAGE_CHILDREN)`` misses most Python-worker CPU: Spark
    reuses its workers for the whole job and kills them at the end, so nobody in our tree reaps
    them. The sum is a lower bound (up to ``every_s`` per process, processes shorter than that)."""

    def __init__(self, pid: int, every_s: float = 0.5):
        self.pid, self.every_s = pid, every_s
        self.peak = {
            "driver_mib": 0.0,
            "python_workers_mib": 0.0,
            "jvm_max_mib": 0.0,
            "driver_python_max_mib": 0.0,
            "python_worker_max_mib": 0.0,
        }
        self._cpu: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _max(self, key: str, rss: int) -> None:
        self.peak[key] = max(self.peak[key], round(rss / 2**20, 1))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            driver = workers = 0
            for p in procs:
                try:  # a short-lived child (the JVM's chmod) may be gone by any of these calls
                    rss, cmd, name = p.memory_info().rss, " ".join(p.cmdline()), p.name()
                    t = p.cpu_times()
                    self._cpu[(p.pid, p.create_time())] = t.user + t.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                if "pyspark.daemon" in cmd or "pyspark.worker" in cmd:
                    workers += rss
                    self._max("python_worker_max_mib", rss)
                elif not ("java" in name or "python" in name):
                    # e.g. the JVM's jspawnhelper, which shares the JVM's pages while it starts a
                    # process: counted, it doubled the JVM (a 6 GB "driver Python" at 100x)
                    continue
                else:
                    driver += rss
                    self._max("jvm_max_mib" if "java" in name else "driver_python_max_mib", rss)
            self.peak["driver_mib"] = max(self.peak["driver_mib"], round(driver / 2**20, 1))
            self.peak["python_workers_mib"] = max(self.peak["python_workers_mib"], round(workers / 2**20, 1))
            self._stop.wait(self.every_s)


def timed_submit(
    name: str, cmd: list[str], cwd: Path, env: dict, job: str, reports: Path, logs: Path
) -> tuple[dict, dict | None]:
    """Run ``cmd`` (a spark-submit of ``job``), its output in ``logs/<name>.log``; returns the
    timing figures and the job's run report (None when it wrote none). A failed run's figures
    carry the tail of its log."""
    load = [round(x, 2) for x in os.getloadavg()]
    log(f"{name}: load {load}; {shlex.join(cmd)}")
    report_path = reports / "runs" / job / "latest.json"
    report_path.unlink(missing_ok=True)  # a report left by an earlier run is not this run's
    start = time.perf_counter()
    with open(logs / f"{name}.log", "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        with PeakMemory(proc.pid) as mem:
            code = exit_code(proc.wait())
    wall = time.perf_counter() - start
    figures = {
        "exit_code": code,
        "seconds": round(wall, 2),
        "cpu_seconds": round(mem.cpu_seconds, 1),
        "load_average_before": dict(zip(("1m", "5m", "15m"), load, strict=True)),
        "peak_memory": mem.peak,
    }
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
    if report:
        figures["outside_stages_seconds"] = round(wall - report["seconds_total"], 2)
    log(
        f"{name}: exit {code}, {wall:.1f} s wall, stages "
        f"{ {s['name']: s['seconds'] for s in report['stages']} if report else None }"
    )
    if code != 0:
        figures["log_tail"] = (logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        log(f"{name} failed:\n{figures['log_tail']}")
    return figures, report
