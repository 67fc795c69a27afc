"""Throughput and memory: ``high_traffic`` for a year; sessions per second and bytes per session.

Targets (docs/architecture.md, quality bars): at least 300,000 simulated sessions per second (aim 1,000,000) and at
most 150 bytes of peak memory per session.

Speed. Each repeat runs in a fresh Python process (so every run starts from the same empty
heap and the memory figure below is clean). In it, untimed: import ``shopsim``, load and
validate the scenario, build ``Simulation(scenario, seed)``. Timed (wall clock)::

    sim.run(days)                       # 365 days by default (--days N for a quick run)
    sessions = sim.tables["sessions"]   # the table every session becomes

sessions per second = ``len(sessions)`` / that time. ``--repeat`` runs (default 3; a year is
about 20 million sessions); the median is judged, the min is printed beside it.

Memory: peak RSS growth, measured in the same fresh processes. After the imports and the
scenario load, the child collects garbage, notes its resident set (``VmRSS``) and resets the
kernel's peak-RSS mark (writing ``5`` to ``/proc/self/clear_refs``, Linux >= 4.0). After the
table is built it reads the peak (``VmHWM``). bytes per session = (peak - RSS before) /
sessions. The ``Simulation`` construction is inside the measured window (it holds the
customer base the run grows). This is what the machine actually had to provide: numpy and
pandas buffers, Python objects, allocator slack and fragmentation, all of it. If the kernel
does not allow the reset, the child falls back to ``ru_maxrss`` (which then also covers the
import's own peak, so it can only under-state growth when the run needs less than the
import did) and says so. The median over the repeats is judged.

Cross-check (not judged, not timed): one more fresh process runs the same steps under
``tracemalloc``, which sees every allocation made through Python's allocators, numpy's data
buffers included; its peak of live traced bytes / sessions is the memory the program itself
asked for, without allocator slack. Skip it with ``--no-tracemalloc``. A short ``--days`` run
overstates bytes per session (fixed costs such as the customer base spread over fewer sessions).

Run: ``.venv/bin/python benchmarks/bench_throughput.py [--days 365] [--repeat 3] [--strict]``
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys

import _common as c

TARGET_RATE = 300_000
AIM_RATE = 1_000_000
TARGET_BYTES = 150
SCENARIO = "high_traffic"


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(days: int, seed: int, scenario: str, traced: bool) -> dict[str, float | int | str]:
    """One measured run in this (fresh) process; returns the figures."""
    import shopsim

    sc = shopsim.load_scenario(scenario)
    gc.collect()
    if traced:
        import tracemalloc

        tracemalloc.start()
    rss_before = c.status_kib("VmRSS")
    reset = _reset_peak()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = c.clock()
    sim = shopsim.Simulation(sc, seed=seed)
    t1 = c.clock()
    sim.run(days)
    t2 = c.clock()
    sessions = sim.tables["sessions"]
    t3 = c.clock()
    out: dict[str, float | int | str] = {
        "sessions": len(sessions), "build": t1 - t0, "run": t2 - t1, "table": t3 - t2,
        "rss_before_kib": rss_before, "rss_after_kib": c.status_kib("VmRSS"),
        "table_bytes": int(sessions.memory_usage(deep=True).sum()),
    }
    if traced:
        import tracemalloc

        out["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if reset:
        out["peak_kib"], out["peak_method"] = c.status_kib("VmHWM"), "VmHWM after clear_refs"
    else:
        out["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["peak_method"] = f"ru_maxrss (no clear_refs; ru_maxrss before the run was {maxrss_before} KiB)"
    return out


def _spawn(args: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"child failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--days", type=int, default=365, help="days to simulate (default 365)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs, each in a fresh process (default 3)")
    p.add_argument("--scenario", default=SCENARIO, help=f"bundled scenario or YAML path (default {SCENARIO})")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc cross-check")
    p.add_argument("--child", action="store_true", help=__import__("argparse").SUPPRESS)
    p.add_argument("--traced", action="store_true", help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    common = ["--days", str(args.days), "--seed", str(args.seed), "--scenario", args.scenario]
    if args.child:
        print(json.dumps(child(args.days, args.seed, args.scenario, args.traced)))
        return 0

    runs = [_spawn(common) for _ in range(args.repeat)]
    n = runs[0]["sessions"]
    timed = c.Timings("run + sessions table", [r["run"] + r["table"] for r in runs])
    rate = c.Timings("sessions per second", [r["sessions"] / (r["run"] + r["table"]) for r in runs])
    mem = c.Timings("peak RSS growth / session",
                    [(r["peak_kib"] - r["rss_before_kib"]) * 1024 / r["sessions"] for r in runs])
    print(f"bench_throughput: {args.scenario!r}, {args.days} days, seed {args.seed}, {n:,} sessions "
          f"({n / args.days:,.0f} a day)")
    print(c.machine_note())
    print(c.Timings("Simulation() (untimed)", [r["build"] for r in runs]).line())
    print(c.Timings("run()", [r["run"] for r in runs]).line())
    print(c.Timings('tables["sessions"]', [r["table"] for r in runs]).line())
    print(timed.line())
    print(f"{'sessions per second':<28} median {rate.median:,.0f} /s  (best {max(rate.runs):,.0f}, "
          f"worst {min(rate.runs):,.0f}, n={len(rate.runs)})")
    print(mem.line(unit="B"))
    print(f"  memory method: {runs[0]['peak_method']}; peak {runs[0]['peak_kib'] / 1024:,.0f} MiB, "
          f"RSS before {runs[0]['rss_before_kib'] / 1024:,.0f} MiB, after {runs[0]['rss_after_kib'] / 1024:,.0f} MiB "
          f"(run 1)")
    print(f"  the finished sessions table itself: {runs[0]['table_bytes'] / n:.1f} B/session")
    if not args.no_tracemalloc:
        tr = _spawn([*common, "--traced"])
        print(f"  cross-check, tracemalloc peak of live traced bytes: {tr['traced_peak'] / tr['sessions']:.1f} "
              f"B/session ({tr['traced_peak'] / 2**20:,.0f} MiB; run under tracemalloc, not timed)")
    ok = [
        c.verdict("sessions per second, median", rate.median, TARGET_RATE, at_most=False, unit="/s",
                  fmt=",.0f", aim=AIM_RATE),
        c.verdict("peak memory per session, median", mem.median, TARGET_BYTES, at_most=True, unit="B",
                  fmt=",.1f"),
    ]
    print(f"      (best: {max(rate.runs):,.0f} /s, {min(mem.runs):,.1f} B/session)")
    return c.finish(ok, args.strict)


if __name__ == "__main__":
    sys.exit(main())
