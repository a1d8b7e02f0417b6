#!/usr/bin/env python3
# Usage: python3 rules/b2b-core/tools/shrink_case.py CASE_DIR (after `marqa generate --out CASE_DIR --scale 0.05`).
# Shrink a generated snapshot for a rule-test case: spend and traffic are summed per month
# (dated the 1st) and per channel/source/medium; every per-month and per-channel metric the
# rules read stays the same. Only months from 2026-01 are kept (the audit period).
import csv, sys, collections
from decimal import Decimal
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/spend.csv", encoding="utf-8")))
agg = collections.OrderedDict()
for r in rows:
    if r["date"] < "2026-01-01": continue
    k = (r["date"][:7] + "-01", r["channel"], r["source"], r["medium"])
    a = agg.setdefault(k, [Decimal(0), 0, 0])
    a[0] += Decimal(r["amount"]); a[1] += int(r["impressions"] or 0); a[2] += int(r["clicks"] or 0)
with open(f"{d}/spend.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f); w.writerow(["date", "channel", "source", "medium", "amount", "impressions", "clicks"])
    for k, a in agg.items(): w.writerow([*k, a[0], a[1], a[2]])
rows = list(csv.DictReader(open(f"{d}/traffic.tsv", encoding="utf-8"), delimiter="\t"))
agg = collections.OrderedDict()
for r in rows:
    if r["date"] < "2026-01-01": continue
    k = (r["date"][:7] + "-01", r["source"], r["medium"])
    a = agg.setdefault(k, [0, 0])
    a[0] += int(r["visits"]); a[1] += int(r["unique_visitors"])
with open(f"{d}/traffic.tsv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, delimiter="\t"); w.writerow(["date", "source", "medium", "visits", "unique_visitors"])
    for k, a in agg.items(): w.writerow([*k, *a])
