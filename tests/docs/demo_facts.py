#!/usr/bin/env python3
"""Facts about `isoscope demo`'s output directory, as JSON, computed here from its files (not
taken from the demo's own report): the history's length and step, its inputs, the injected
incidents, and the highest score of the demo's scoring run.
   demo_facts.py DEMO_DIR"""
import csv
import json
import statistics
import sys
from datetime import datetime


def seconds(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main(demo):
    with open(f"{demo}/history.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    times = [seconds(r[0]) for r in body]
    step = statistics.median(b - a for a, b in zip(times, times[1:]))
    span_days = (times[-1] - times[0] + step) / 86400
    with open(f"{demo}/incidents.csv", newline="") as f:
        incidents = list(csv.DictReader(f))
    with open(f"{demo}/scores.csv", newline="") as f:
        scores = [float(r["anomaly_score"]) for r in csv.DictReader(f) if r["anomaly_score"]]
    json.dump({"days": span_days, "weeks": span_days / 7, "step_seconds": step,
               "inputs": len(header) - 1, "incidents": len(incidents),
               "max_score": max(scores)}, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
