#!/usr/bin/env python3
"""DuckDB's side of bench/compare.sh: load a generated snapshot with DuckDB's CSV reader
(bench/duckdb/load.sql), compute the metric set of the metrics cross-check
(tests/crosscheck/metrics.sql, run by tests/crosscheck/duckdb_metrics.compute) and write it as
JSON: {"overall": {...}, "by_channel": {...}, "skipped": {...}}.

Usage: run.py SNAPSHOT_DIR OUT.json   (DuckDB uses every core, as marqa does)
"""

import json
import os
import sys

import duckdb
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "crosscheck"))
import duckdb_metrics  # noqa: E402  (the cross-check's metric runner)

KEYS = ("source", "medium", "campaign", "origin")


def quote(s):
    return "'" + str(s).replace("'", "''") + "'"


def channel_case(rules, columns):
    """The manifest's channel map as SQL: first matching rule wins, else '(none)'. A key the
    table lacks never matches (as in duckdb_metrics.match_channel)."""
    arms = []
    for r in rules:
        conds = []
        for key in KEYS:
            allowed = r.get(key)
            if allowed is None:
                continue
            if key not in columns:
                conds.append("FALSE")
                continue
            values = ", ".join(quote(str(a).strip().lower()) for a in allowed)
            conds.append(f"lower(trim(coalesce({key}, ''))) IN ({values})")
        arms.append(f"WHEN {' AND '.join(conds) or 'TRUE'} THEN {quote(r['channel'])}")
    return "CASE " + " ".join(arms) + " ELSE '(none)' END" if arms else "'(none)'"


def main(root, out):
    root = os.path.abspath(root)
    manifest = yaml.safe_load(open(os.path.join(root, "snapshot.yaml"), encoding="utf-8"))
    calls = (manifest.get("tables") or {}).get("calls") or {}
    rules = manifest.get("channels") or []
    params = {
        "dir": root.replace("'", "''"),
        "tz": manifest["timezone"],
        "calls": calls.get("path", "calls.csv"),
        "calls_tz": calls.get("timezone", manifest["timezone"]),
        "calls_delim": calls.get("delimiter", ","),
        "channel_leads": channel_case(rules, {"source", "medium", "campaign", "origin"}),
        "channel_touches": channel_case(rules, {"source", "medium", "campaign"}),
        "channel_spend": channel_case(rules, {"source", "medium", "campaign"}),
        "channel_traffic": channel_case(rules, {"source", "medium"}),
    }
    sql = open(os.path.join(HERE, "load.sql"), encoding="utf-8").read()
    for k, v in params.items():
        sql = sql.replace("{" + k + "}", str(v))
    con = duckdb.connect()
    con.execute(sql)
    present = {}
    for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
        cols = [c[0] for c in con.execute(f'DESCRIBE "{name}"').fetchall()]
        present[name] = [c for c in cols if c != "rn" and not c.endswith("_local")]
    result = duckdb_metrics.compute(con, manifest, present)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, sort_keys=True, indent=1)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
