#!/usr/bin/python3
"""Draws docs/images/throughput-vs-concurrency.png from the scenario harness's JSON results.

    /usr/bin/python3 bench/plot.py artifacts/bench/full.json [docs/images/throughput-vs-concurrency.png]

Needs matplotlib. On Debian: apt-get install -y python3-matplotlib (it installs into Debian's /usr/bin/python3,
which is why this script names that interpreter rather than whatever 'python3' is first on PATH).

One panel per kind of latency (a blocking call, an async wait), at L = 50 ms on one partition: the throughput of
each system against the concurrency C, on log scales, with the Little's-law bound C / L as a line (the sequential
loop's own bound is P / L, drawn dotted).

    /usr/bin/python3 bench/plot.py --latency-vs-load RESULTS.json [docs/images/latency-vs-load.png]

The open-loop workloads (rows with rate_per_s): end-to-end p50, p99 and p99.9 (produce to output) of each system
against the offered load (share of the bound C / L), with L and the target L + 10 ms as lines.
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


def latency_vs_load(source, target):
    with open(source, encoding="utf-8") as f:
        rows = [r for r in json.load(f) if r.get("rate_per_s") and r.get("bound_per_s") and r.get("runs", 0) > 0]
    if not rows:
        sys.exit(f"{source} has no open-loop rows (workloads open-*)")
    latency = rows[0]["latency_ms"]
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    quantiles = [("p50_ms", "p50", "-"), ("p99_ms", "p99", "--"), ("p999_ms", "p99.9", ":")]
    for system, label, color, marker in SYSTEMS:
        points = sorted((r["rate_per_s"] / r["bound_per_s"] * 100, r) for r in rows if r["system"] == system)
        if not points:
            continue
        for field, name, style in quantiles:
            xs = [p[0] for p in points if p[1].get(field) is not None]
            ys = [p[1][field] for p in points if p[1].get(field) is not None]
            ax.plot(xs, ys, color=color, marker=marker, linestyle=style, linewidth=1.6, label=f"{label}: {name}")
    ax.axhline(latency, color="black", linewidth=1.0, label=f"L = {latency} ms")
    ax.axhline(latency + 10, color="red", linewidth=1.0, linestyle="--", label=f"target p99 at 50%: L + 10 ms")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (% of the bound C / L)")
    ax.set_ylabel("end-to-end latency, produce to output (ms, log scale)")
    ax.set_title(f"Latency under a steady load: async L = {latency} ms, C = {rows[0]['workload_concurrency']}, P = 1")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, framealpha=0.9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    fig.savefig(target, dpi=120)
    print(f"wrote {target}")


def main(argv):
    if len(argv) >= 3 and argv[1] == "--latency-vs-load":
        latency_vs_load(argv[2], argv[3] if len(argv) > 3 else "docs/images/latency-vs-load.png")
        return
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
