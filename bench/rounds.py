#!/usr/bin/env python3
"""The lines alternate_rounds (bench/lib.sh) writes, "CLIENTS NAME ROUND
SECONDS COMMANDS", read once for everyone: bench/report.py imports it, and
bench/concurrency.sh and bench/compare.sh print its summary.

Usage: rounds.py FILE A B [NOTE]
  per client count: the medians of the rounds' commands/s of A and of B, and
  the median of the rounds' A/B ratios (NOTE follows the round count)."""
import statistics, sys


def pairs(path):
    """{clients: [{name: commands per second}, ...]}, one dict per round that has both runs."""
    rounds = {}
    for line in open(path):
        clients, name, rnd, secs, n = line.split()
        rounds.setdefault(int(clients), {}).setdefault(int(rnd), {})[name] = int(n) / float(secs)
    return {c: [p for p in by_round.values() if len(p) == 2] for c, by_round in sorted(rounds.items())}


def summary(ps, a, b):
    """(median of a's rates, median of b's, median of the rounds' a/b ratios)."""
    return (statistics.median(p[a] for p in ps), statistics.median(p[b] for p in ps),
            statistics.median(p[a] / p[b] for p in ps))


if __name__ == "__main__":
    path, a, b = sys.argv[1:4]
    note = f"; {sys.argv[4]}" if len(sys.argv) > 4 else ""
    for clients, ps in pairs(path).items():
        ra, rb, r = summary(ps, a, b)
        print(f"{clients:>3} clients: {a} {ra:6.0f}/s  {b} {rb:6.0f}/s  {a}/{b} {r:.3f} "
              f"(median of {len(ps)} rounds{note})")
