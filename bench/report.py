#!/usr/bin/env python3
"""Turns what bench/run.sh measured (OUT/raw) into OUT/results.json,
OUT/results.md (tables) and OUT/results.png (bar charts, log scale); with
--pull, what bench/pull.sh measured (PULLOUT/pull.json) into PULLOUT/pull.png.

    report.py OUT
    report.py --pull PULLOUT

Only reads and formats: every number comes from hyperfine's JSON, GNU time's
samples or the events counts. Goals are stated beside the numbers, never
enforced (timing is not a test)."""

import json
import os
import statistics
import sys

GOAL_SPEEDUP = 5.0  # lcctl at least 5x faster than ctr
GOAL_FLOOR = 1.5  # lcctl within 1.5x of the floor
GOAL_RSS = 5.0  # lcctl's peak RSS at most a fifth of ctr's
TOOLS = ("lcctl", "ctr", "floor")


def load_json(path):
    with open(path) as f:
        return json.load(f)


def timing(raw, key, tool):
    """Median and spread (ms) of one command, from hyperfine's export."""
    path = os.path.join(raw, f"{key}.{tool}.json")
    if not os.path.exists(path):
        return None
    r = load_json(path)["results"][0]
    times = r.get("times") or []
    return {
        "median_ms": r["median"] * 1e3,
        "stddev_ms": (r.get("stddev") or 0.0) * 1e3,
        "min_ms": r["min"] * 1e3,
        "max_ms": r["max"] * 1e3,
        "mean_ms": r["mean"] * 1e3,
        "user_ms": r["user"] * 1e3,
        "system_ms": r["system"] * 1e3,
        "runs": len(times),
        "command": r["command"],
    }


def rss(raw, key, tool):
    """Median peak RSS (KiB) over the samples GNU time took."""
    path = os.path.join(raw, f"{key}.{tool}.rss")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        samples = [int(line) for line in f if line.strip().isdigit()]
    if not samples:
        return None
    return {"median_kib": statistics.median(samples), "samples": samples}


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ms(t):
    if t is None:
        return "—"
    m, s = t["median_ms"], t["stddev_ms"]
    if m < 10:
        return f"{m:.2f} ± {s:.2f}"
    if m < 100:
        return f"{m:.1f} ± {s:.1f}"
    return f"{m:.0f} ± {s:.0f}"


def fmt_x(x):
    return "—" if x is None else f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


def fmt_kib(r):
    return "—" if r is None else f"{r['median_kib']:.0f}"


def collect(out):
    raw = os.path.join(out, "raw")
    rows = []
    with open(os.path.join(raw, "rows.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            row["time"] = {t: timing(raw, row["key"], t) for t in TOOLS}
            row["rss"] = {t: rss(raw, row["key"], t) for t in TOOLS}
            med = {t: (row["time"][t] or {}).get("median_ms") for t in TOOLS}
            kib = {t: (row["rss"][t] or {}).get("median_kib") for t in TOOLS}
            row["ratio"] = {
                "ctr_over_lcctl": ratio(med["ctr"], med["lcctl"]),
                "lcctl_over_floor": ratio(med["lcctl"], med["floor"]),
                "rss_ctr_over_lcctl": ratio(kib["ctr"], kib["lcctl"]),
            }
            rows.append(row)
    events_path = os.path.join(raw, "events.json")
    events = load_json(events_path) if os.path.exists(events_path) else None
    return {"machine": load_json(os.path.join(raw, "machine.json")), "rows": rows, "events": events}


def goals(row):
    """Which of the issue's goals this row meets, in words."""
    if row["note"].startswith("skipped"):
        return ""
    r, out = row["ratio"], []
    if r["ctr_over_lcctl"] is not None:
        out.append(f"≥{GOAL_SPEEDUP:g}x ctr " + ("✓" if r["ctr_over_lcctl"] >= GOAL_SPEEDUP else "✗"))
    if r["lcctl_over_floor"] is not None:
        out.append(f"≤{GOAL_FLOOR:g}x floor " + ("✓" if r["lcctl_over_floor"] <= GOAL_FLOOR else "✗"))
    if r["rss_ctr_over_lcctl"] is not None:
        out.append(f"RSS ≤1/{GOAL_RSS:g} " + ("✓" if r["rss_ctr_over_lcctl"] >= GOAL_RSS else "✗"))
    return " · ".join(out)


def notes(row):
    """The row's own note, and when even the floor is not 5x faster than ctr,
    the daemon's share: the most any client could reach."""
    out = [row["note"]] if row["note"] else []
    ceiling = ratio((row["time"]["ctr"] or {}).get("median_ms"),
                    (row["time"]["floor"] or {}).get("median_ms"))
    if ceiling is not None and ceiling < GOAL_SPEEDUP:
        out.append(f"ctr/floor is {fmt_x(ceiling)}: the daemon's own work bounds any client")
    return "; ".join(out)


def table(rows, section):
    head = ("| operation | lcctl median ms | ctr median ms | ctr/lcctl | floor ms | lcctl/floor "
            "| RSS lcctl KiB | RSS ctr KiB | ctr/lcctl RSS | goals | notes |")
    lines = [head, "|" + " --- |" * 11]
    for row in rows:
        if row["section"] != section:
            continue
        label = row["label"] + (f" (ctr: {row['ctr_how']})" if row.get("ctr_how") else "")
        t, k, r = row["time"], row["rss"], row["ratio"]
        lines.append("| " + " | ".join([
            label, fmt_ms(t["lcctl"]), fmt_ms(t["ctr"]), fmt_x(r["ctr_over_lcctl"]),
            fmt_ms(t["floor"]), fmt_x(r["lcctl_over_floor"]), fmt_kib(k["lcctl"]),
            fmt_kib(k["ctr"]), fmt_x(r["rss_ctr_over_lcctl"]), goals(row), notes(row),
        ]) + " |")
    return lines


def events_table(ev):
    if ev is None:
        return ["(not measured)"]
    if "skipped" in ev:
        return [f"Skipped: {ev['skipped']}."]
    lines = [
        f"{ev['containers']} containers created, started, exited and deleted, "
        f"{ev['parallel']} at a time, in {ev['churn_ms']} ms"
        + ("" if ev.get("churn_ok", True) else " (some churn steps failed: see logs/churn.log)")
        + ". CPU is the subscriber's own during the churn (every thread, from "
        "/proc/PID/task/*/schedstat); utime+stime from /proc/PID/stat is given too, in "
        "10 ms ticks, with and without start-up.",
        "",
        "| subscriber | events printed | exits seen | exits lost | CPU during churn ms | µs/event "
        "| utime+stime during churn ms | utime+stime incl. start-up ms |",
        "|" + " --- |" * 8,
    ]
    per = {}
    for tool in ("lcctl", "ctr"):
        e = ev[tool]
        per[tool] = e["cpu_ns"] / 1e3 / e["events"] if e["events"] else None
        lines.append("| " + " | ".join([
            f"`{tool} events`", str(e["events"]), f"{e['exits']} of {ev['containers']}",
            str(e["lost"]), f"{e['cpu_ns'] / 1e6:.1f}",
            "—" if per[tool] is None else f"{per[tool]:.1f}",
            str(e["cpu_ticks_ms"]), str(e["cpu_total_ms"]),
        ]) + " |")
    r = ratio(per["ctr"], per["lcctl"])
    if r is not None:
        lines += ["", f"CPU per event, ctr/lcctl: {fmt_x(r)}."]
    return lines


def markdown(data):
    m = data["machine"]
    mode = "quick" if m["quick"] else "full"
    lines = ["# lcctl vs ctr", ""]
    if m.get("note"):
        lines += [f"**{m['note']}**", ""]
    lines += [
        f"Measured {m['date']} by `bash bench/run.sh{' --quick' if m['quick'] else ''}` ({mode} mode, "
        f"{m.get('seconds', '?')} s) on {m['cpu']}, {m['nproc']} CPUs, {m['mem']}; {m['os']}, "
        f"kernel {m['kernel']}; containerd {m['containerd']}, runc {m['runc']}; "
        f"{m['lcctl']} (`{m['commit']}`, `{m['cflags']}`); hyperfine {m['hyperfine']}. "
        f"Load average before {m['load_before']}, after {m.get('load_after', '?')}.",
        "",
        "Median ± standard deviation of wall time (hyperfine -N, no shell): "
        f"{m['single_runs']} runs per single command, {m['bulk_runs']} per bulk row. "
        f"Peak RSS: median of {m['rss_runs']} runs of GNU time `%M`. Ratios are of medians; "
        "goals are the issue's, shown, never enforced.",
        "",
        "## Single calls",
        "",
        "Floor: `bench/floor`, a C program on our own liblccore.a that connects and makes the "
        "one gRPC call the command needs (Version, Tasks.Get, Tasks.List, Tasks.Pause, "
        "Tasks.Resume, Tasks.Kill) and exits; see bench/README.md.",
        "",
    ]
    lines += table(data["rows"], "single")
    lines += ["", f"## Bulk: {m['containers']} containers, run --rm x{m['run_n']}", "",
              "lcctl acts on every ID in one call; ctr in one call where it has one "
              "(`task ls`), else in a shell loop (bench/loop.sh). `run` is a loop for both. "
              "RSS is that of one process: lcctl's bulk call, and one ctr call of the loop.", ""]
    lines += table(data["rows"], "bulk")
    lines += ["", "## Events", ""]
    lines += events_table(data["events"])
    return "\n".join(lines) + "\n"


def plot(data, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"lcctl": "#1f77b4", "ctr": "#d62728", "floor": "#7f7f7f"}
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    m = data["machine"]
    fig.suptitle(f"lcctl vs ctr — {m['date']}, {m['cpu']}, {m['nproc']} CPUs"
                 + (f" — {m['note']}" if m.get("note") else ""), fontsize=11)

    def bars(ax, rows, tools, value, err, title, ylabel):
        rows = [r for r in rows if any(value(r, t) for t in tools)]
        width = 0.8 / len(tools)
        for i, tool in enumerate(tools):
            xs = [j + (i - (len(tools) - 1) / 2) * width for j in range(len(rows))]
            vals = [value(r, tool) or 0 for r in rows]
            errs = [err(r, tool) or 0 for r in rows] if err else None
            ax.bar(xs, vals, width, yerr=errs, label=tool, color=colors[tool], capsize=2)
            for x, v, e in zip(xs, vals, errs or [0] * len(vals)):
                if v:
                    label = f"{v:.0f}" if v >= 100 else f"{v:.3g}"
                    ax.text(x, (v + e) * 1.08, label, ha="center", va="bottom", fontsize=7,
                            rotation=90)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["label"] for r in rows], rotation=25, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        ax.margins(y=0.25)

    def med(r, t):
        return (r["time"][t] or {}).get("median_ms")

    def sd(r, t):
        return (r["time"][t] or {}).get("stddev_ms")

    def kib(r, t):
        return (r["rss"][t] or {}).get("median_kib")

    single = [r for r in data["rows"] if r["section"] == "single"]
    bulk = [r for r in data["rows"] if r["section"] == "bulk"]
    bars(axes[0][0], single, TOOLS, med, sd, "single calls: median wall time", "ms (log)")
    bars(axes[0][1], bulk, ("lcctl", "ctr"), med, sd,
         f"bulk ({m['containers']} containers; run x{m['run_n']}): median wall time", "ms (log)")
    bars(axes[1][0], single + bulk, TOOLS, kib, None, "peak RSS (median)", "KiB (log)")

    ax = axes[1][1]
    ev = data["events"]
    if ev and "skipped" not in ev:
        vals = [ev[t]["cpu_ns"] / 1e3 / ev[t]["events"] if ev[t]["events"] else 0
                for t in ("lcctl", "ctr")]
        ax.bar(["lcctl events", "ctr events"], vals, color=[colors["lcctl"], colors["ctr"]])
        for x, v in enumerate(vals):
            ax.text(x, v * 1.08 if v else 1, f"{v:.3g} µs\nlost {ev[('lcctl', 'ctr')[x]]['lost']}",
                    ha="center", va="bottom", fontsize=8)
        ax.set_yscale("log")
        ax.margins(y=0.3)
        ax.set_ylabel("CPU µs per event (log)")
        ax.set_title(f"events: {ev['containers']} containers churning", fontsize=10)
    else:
        ax.text(0.5, 0.5, "events not measured", ha="center", va="center")
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def pull_tool(row):
    """Which tool a row of pull.json measures: its colour in the chart."""
    key = row["row"]
    return "floor" if key.startswith("curl") else "ctr" if key.startswith("ctr") else "lcctl"


def plot_pull(data, path):
    """Two bar charts, one bar a row: median wall time (with its spread) and
    peak RSS, coloured by tool, the goal's line drawn from ctr's bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"lcctl": "#1f77b4", "ctr": "#d62728", "floor": "#7f7f7f"}
    rows = [r for r in data["rows"] if r.get("median_s") is not None]
    m = data["machine"]
    fig, axes = plt.subplots(1, 2, figsize=(15, 6))
    fig.suptitle(f"pull + unpack of {m['image']} ({m['bytes']} bytes, {m['layers']} layers) — "
                 f"{m['date']}, {m['nproc']} CPUs, load {m['load_before']}"
                 + (f" — {m['note']}" if m.get("note") else ""), fontsize=10)
    by = {r["row"]: r for r in rows}
    panels = ((axes[0], "median_s", "stddev_s", "median wall time", "s", 1 / 1.5),
              (axes[1], "rss_kib", None, "peak RSS of the client (median)", "KiB", 1 / 5))
    for ax, key, err, title, unit, goal in panels:
        vals = [r.get(key) or 0 for r in rows]
        errs = [r.get(err) or 0 for r in rows] if err else None
        ax.bar(range(len(rows)), vals, yerr=errs, capsize=3,
               color=[colors[pull_tool(r)] for r in rows])
        for x, v in enumerate(vals):
            if v:
                ax.text(x, v, f"{v:.0f}" if v >= 100 else f"{v:.3g}", ha="center", va="bottom",
                        fontsize=8)
        if by.get("ctr", {}).get(key):
            ax.axhline(by["ctr"][key] * goal, color=colors["ctr"], linestyle="--", linewidth=1,
                       label=f"goal: {goal:.2g}x ctr")
            ax.legend(fontsize=8)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["label"] for r in rows], rotation=25, ha="right", fontsize=8)
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.margins(y=0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--pull":
        out = sys.argv[2]
        plot_pull(load_json(os.path.join(out, "pull.json")), os.path.join(out, "pull.png"))
        return
    if len(sys.argv) != 2:
        sys.exit("usage: report.py OUT | report.py --pull PULLOUT")
    out = sys.argv[1]
    data = collect(out)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(markdown(data))
    plot(data, os.path.join(out, "results.png"))


if __name__ == "__main__":
    main()
