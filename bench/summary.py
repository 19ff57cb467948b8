"""Print the goals table from bench/results/latest.json (written by the bench_*.py scripts).

One line per row that has a goal: dosim's median, the peer's median, the ratio dosim/peer
(or dosim's figure against an absolute goal) and whether the goal is met. Run last by
``nox -s bench``; asserts nothing.
"""

from __future__ import annotations

import json
import statistics

from common import RESULTS


def main() -> None:
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        print(f"summary: no results in {RESULTS}")
        return
    table = [("row", "dosim", "peer", "peer figure", "dosim/peer", "goal", "met")]
    for section in data.values():
        for row in section["rows"]:
            if row["goal"] is None and row.get("limit") is None:
                continue
            digits = 2 if row["unit"] in ("s", "ms") else 0
            dosim = statistics.median(row["dosim"]) if row["dosim"] else None
            peer = statistics.median(row["peer"]) if row["peer"] else None
            better = "higher" if row["better"] == "higher" else "lower"
            table.append(
                (
                    f"{row['label']} ({row['unit']}, {better} is better)",
                    f"{dosim:,.{digits}f}" if dosim is not None else "-",
                    row["peer_name"],
                    f"{peer:,.{digits}f}" if peer is not None else row["peer_note"] or "-",
                    f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-",
                    row["goal_text"],
                    row["met"],
                )
            )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print(f"\nGoals (issue 13), medians from {RESULTS.relative_to(RESULTS.parents[2])}")
    for line in [table[0], tuple("-" * w for w in widths), *table[1:]]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
