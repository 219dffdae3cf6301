"""What every bench needs to be believed (issue 21): it fails loudly, says how loaded the machine was, how much
CPU time and peak memory a stage took beside its wall time, alternates the project's runs with the baseline's
and reports medians, and leaves no folder behind."""

from __future__ import annotations

import atexit
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The real data sits beside the checkout (../shared/data); a worktree elsewhere names it with ZHULIAN_SHARED_DATA.
DATA = Path(os.environ.get("ZHULIAN_SHARED_DATA") or ROOT.parent / "shared" / "data")


class BenchFailed(SystemExit):
    """A run that went wrong: its figures would mislead, so the bench stops with a non-zero exit and the reason."""

    def __init__(self, reason: str) -> None:
        print(f"BENCH FAILED: {reason}", file=sys.stderr, flush=True)
        super().__init__(1)


def machine() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def reset_peak_memory() -> None:
    """Start the process's peak RSS (VmHWM) afresh, so the next stage's peak is its own (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_memory_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended, user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report_at_exit() -> None:
    """When the bench ends, however it ends, print what the whole run cost (wall, CPU of this process and its
    ended children, peak RSS) and the machine's load, so that a bench without stages of its own still says so."""
    wall, cpu = time.perf_counter(), cpu_seconds()

    def report() -> None:
        print(f"[run: wall {time.perf_counter() - wall:.1f} s, CPU {cpu_seconds() - cpu:.1f} s, "
              f"peak RSS {peak_memory_mb():,.0f} MB, {machine()}]", flush=True)

    atexit.register(report)


@contextmanager
def stage(label: str) -> Iterator[dict[str, float]]:
    """Times the block: wall, CPU (> wall means more than one core worked), this process's peak RSS, and load."""
    reset_peak_memory()
    figures: dict[str, float] = {}
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield figures
    figures["wall"] = time.perf_counter() - wall
    figures["cpu"] = cpu_seconds() - cpu
    print(f"  [{label}: wall {figures['wall']:.1f} s, CPU {figures['cpu']:.1f} s "
          f"({figures['cpu'] / max(figures['wall'], 1e-9):.2f} cores), peak RSS {peak_memory_mb():,.0f} MB, "
          f"{machine()}]", flush=True)


@contextmanager
def work_folder(prefix: str, keep: Path | None = None) -> Iterator[Path]:
    """A temporary folder removed at the end however the run ends (an error, Ctrl-C or SIGTERM), unless the
    caller named one of its own to keep."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the finally below
    try:
        yield folder
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(folder, ignore_errors=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def turns(names: list[str], rounds: int) -> Iterator[tuple[int, str]]:
    """Each contender once a round, taking turns, the order rotating each round so neither always goes first."""
    for n in range(rounds):
        for name in names[n % len(names):] + names[:n % len(names)]:
            yield n, name


def alternate(runs: dict[str, Callable[[], list[float]]], rounds: int) -> dict[str, dict[str, float]]:
    """Run each contender ``rounds`` times, taking turns, and give the median over the rounds of each round's p50
    and p95."""
    p50s: dict[str, list[float]] = {name: [] for name in runs}
    p95s: dict[str, list[float]] = {name: [] for name in runs}
    for _n, name in turns(list(runs), rounds):
        samples = runs[name]()
        p50s[name].append(percentile(samples, .5))
        p95s[name].append(percentile(samples, .95))
    return {name: {"p50": statistics.median(p50s[name]), "p95": statistics.median(p95s[name])} for name in runs}


def alternate_whole_runs(runs: dict[str, Callable[[int], float]], rounds: int, count: int,
                         unit: str) -> dict[str, float]:
    """Time whole runs that each handle ``count`` ``unit``: each contender once a round (given the round's number,
    for a fresh folder), taking turns; each run's rate is printed with the load, and each contender's median
    seconds over the rounds returned."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for n, name in turns(list(runs), rounds):
        took = runs[name](n)
        seconds[name].append(took)
        print(f"round {n + 1} {name}: {count / took:,.0f} {unit}/s ({took:.1f} s); {machine()}", flush=True)
    return {name: statistics.median(seconds[name]) for name in runs}
