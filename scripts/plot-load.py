#!/usr/bin/env python3
"""Plots the load benchmark's ramp: lag and memory per session against live sessions.

Usage: dotnet run -c Release --project bench/VoicePipeline.Benchmarks -- load --json > load.json
       python3 scripts/plot-load.py load.json docs/load.png
Reads the last JSON line of the file (the benchmark's output); needs matplotlib (apt-get install python3-matplotlib).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source, target):
    with open(source, encoding="utf-8") as handle:
        lines = [line for line in handle if line.lstrip().startswith("{")]
    if not lines:
        sys.exit(f"plot-load: no JSON line in {source}")
    result = json.loads(lines[-1])
    steps = result.get("steps") or []
    baseline = result.get("baseline_steps") or []
    if not steps:
        sys.exit("plot-load: the run has no steps (run `load --json` without --sessions)")

    figure, (lag, memory) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    sessions = [s["sessions"] for s in steps]
    lag.plot(sessions, [s["frame_lag_p99_ms"] for s in steps], "o-", label="input frame lag p99 (socket -> STT client)")
    lag.plot(sessions, [s["event_lag_p99_ms"] for s in steps], "s-", label="event lag p99 (end of utterance -> final transcript)")
    if baseline:
        lag.plot([s["sessions"] for s in baseline], [s["frame_lag_p99_ms"] for s in baseline], "^--", color="grey",
                 label="bare Kestrel WebSocket echo, lag p99")
    lag.axhline(100, color="red", linewidth=0.8, linestyle=":", label="falls behind (100 ms)")
    lag.set_yscale("log")
    lag.set_ylabel("ms")
    lag.legend(fontsize=8)
    lag.set_title(f"vp serve's pipeline on {result.get('gc', '?')}: max {result.get('max_sessions')} sessions "
                  f"(echo baseline {result.get('baseline_max_sessions')})", fontsize=9)

    memory.plot(sessions, [s["rss_mib_per_session"] for s in steps], "o-", label="RSS above idle per session (MiB)")
    memory.plot(sessions, [s["cpu_ms_per_session_second"] for s in steps], "s-", label="CPU per session (ms per second)")
    memory.axhline(2, color="red", linewidth=0.8, linestyle=":", label="memory goal (2 MiB)")
    memory.set_xlabel("live sessions (each streaming speech in real time)")
    memory.set_ylim(bottom=0)
    memory.legend(fontsize=8)

    figure.tight_layout()
    figure.savefig(target, dpi=110)
    print(f"plot-load: wrote {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
