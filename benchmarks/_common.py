"""Shared helpers of the benchmark scripts: repeated timing, machine notes, the verdict line.

Not a benchmark itself (the ``bench_*.py`` loop skips it). Each script imports it as
``_common`` because ``python benchmarks/X.py`` puts ``benchmarks/`` first on ``sys.path``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing: import the tree's shopsim
    sys.path.insert(0, str(ROOT))


@dataclass
class Timings:
    """Seconds of each repeat of one measured step."""

    name: str
    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def best(self) -> float:
        return min(self.runs)

    def line(self, unit: str = "s", scale: float = 1.0) -> str:
        spread = f"min {self.best * scale:.3f}, max {max(self.runs) * scale:.3f}"
        return f"{self.name:<28} median {self.median * scale:8.3f} {unit}  ({spread}, n={len(self.runs)})"


def clock() -> float:
    """Wall-clock seconds (the benchmarks' targets are wall time)."""
    return time.perf_counter()


def status_kib(field: str) -> int:
    """A memory figure of this process from ``/proc/self/status`` (``VmRSS``, ``VmHWM`` ...), KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def cpu_clock() -> float:
    """CPU seconds of this process (a figure less at the mercy of other jobs on a shared machine)."""
    return time.process_time()


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    p = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--seed", type=int, default=7, help="simulation seed (default 7)")
    return p


def machine_note() -> str:
    """One line on the machine and its load when the benchmark ran (timings are noisy)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    import numpy as np
    import pandas as pd
    import simpy

    return (f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
            f"simpy {simpy.__version__}; {os.cpu_count()} cpus, load avg {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def verdict(label: str, value: float, target: float, *, at_most: bool, unit: str, fmt: str = ",.3f",
            aim: float | None = None) -> bool:
    """Print one ``PASS``/``MISS`` line for a measured figure against its target; return whether it met it."""
    ok = value <= target if at_most else value >= target
    rel = "<=" if at_most else ">="
    extra = ""
    if aim is not None:
        reached = value <= aim if at_most else value >= aim
        extra = f"; aim {rel} {aim:{fmt}} {unit}: {'reached' if reached else 'not yet'}"
    print(f"{'PASS' if ok else 'MISS'}  {label}: {value:{fmt}} {unit} (target {rel} {target:{fmt}} {unit}{extra})")
    return ok


def finish(results: list[bool], strict: bool) -> int:
    """The exit code: 1 only under ``--strict`` when some target was missed."""
    missed = results.count(False)
    if missed:
        print(f"{missed} target(s) missed" + ("" if strict else " (exit 0; use --strict to fail)"))
    return 1 if strict and missed else 0


def repeat(step: Callable[[], Any], n: int, warmup: int = 1) -> tuple[list[float], Any]:
    """Run ``step`` ``warmup`` + ``n`` times; return the ``n`` timed durations and the last result."""
    result = None
    for _ in range(warmup):
        result = step()
    out = []
    for _ in range(n):
        t0 = clock()
        result = step()
        out.append(clock() - t0)
    return out, result
