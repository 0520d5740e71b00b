#!/usr/bin/python3
"""Draws docs/images/throughput-vs-concurrency.png from the scenario harness's JSON results.

    /usr/bin/python3 bench/plot.py artifacts/bench/full.json [docs/images/throughput-vs-concurrency.png]

Needs matplotlib. On Debian: apt-get install -y python3-matplotlib (it installs into Debian's /usr/bin/python3,
which is why this script names that interpreter rather than whatever 'python3' is first on PATH).

One panel per kind of latency (a blocking call, an async wait), at L = 50 ms on one partition: the throughput of
each system against the concurrency C, on log scales, with the Little's-law bound C / L as a line (the sequential
loop's own bound is P / L, drawn dotted).
"""
import json
import os
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("matplotlib is missing: apt-get install -y python3-matplotlib, then run this with /usr/bin/python3")

SYSTEMS = [
    ("meshinery", "Meshinery (unordered)", "#1f77b4", "o"),
    ("key-hash-workers", "key-hash workers (KafkaFlow model)", "#ff7f0e", "s"),
    ("sequential", "sequential loop (Kafka Streams model)", "#2ca02c", "^"),
]
LATENCY_MS = 50
PARTITIONS = 1


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    source = argv[1]
    target = argv[2] if len(argv) > 2 else "docs/images/throughput-vs-concurrency.png"
    with open(source, encoding="utf-8") as f:
        rows = json.load(f)

    kinds = [k for k in ("blocking", "async") if any(r["workload"] == k for r in rows)]
    if not kinds:
        sys.exit(f"{source} has no blocking or async rows")

    fig, axes = plt.subplots(1, len(kinds), figsize=(6.2 * len(kinds), 5.2), squeeze=False, sharey=True)
    for ax, kind in zip(axes[0], kinds):
        selected = [r for r in rows if r["workload"] == kind and r["latency_ms"] == LATENCY_MS
                    and r["partitions"] == PARTITIONS and r["throughput_per_s"] > 0]
        concurrencies = sorted({r["workload_concurrency"] for r in selected})
        if not concurrencies:
            continue
        ax.plot(concurrencies, [c * 1000 / LATENCY_MS for c in concurrencies], color="black", linestyle="--",
                linewidth=1.2, label="Little's-law bound C / L")
        ax.plot(concurrencies, [PARTITIONS * 1000 / LATENCY_MS] * len(concurrencies), color="#2ca02c",
                linestyle=":", linewidth=1.2, label="sequential bound P / L")
        for system, label, color, marker in SYSTEMS:
            points = sorted((r["workload_concurrency"], r["throughput_per_s"], r.get("ratio_to_bound"))
                            for r in selected if r["system"] == system)
            if not points:
                continue
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            ax.plot(xs, ys, color=color, marker=marker, linewidth=1.8, label=label)
            if system != "sequential":
                above = system == "meshinery"  # the two lines are close: one system's labels above, the other's below
                for x, y, ratio in points:
                    if ratio:
                        ax.annotate(f"{ratio:.0%}", (x, y), textcoords="offset points", xytext=(-12, 7 if above else -13),
                                    ha="center", fontsize=8, color=color, fontweight="bold" if above else "normal")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(concurrencies)
        ax.set_xticklabels([str(c) for c in concurrencies])
        ax.set_xlabel("concurrency C (in-flight limit / workers)")
        ax.set_title(f"{'blocking call' if kind == 'blocking' else 'async wait'}: L = {LATENCY_MS} ms, "
                     f"P = {PARTITIONS} partition")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("throughput (messages/s, log scale)")
    axes[0][-1].legend(loc="center right", fontsize=8, framealpha=0.9)
    fig.suptitle("Throughput against concurrency (percentages: share of the Little's-law bound)", fontsize=11)
    fig.tight_layout()
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    fig.savefig(target, dpi=110)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv)
