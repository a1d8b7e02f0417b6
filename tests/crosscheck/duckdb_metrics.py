#!/usr/bin/env python3
"""Independent cross-check of marqa's metrics: the same definitions (metrics.md) written as
DuckDB SQL (metrics.sql beside this file), run on a snapshot folder.

Python only reads the files: it parses timestamps into unix seconds (naive ones in the
table's or the manifest's zone), derives channels from the manifest map, and passes the
period bounds; every metric is computed by the SQL. Prints one JSON object:
{"overall": {metric: value or null}, "by_channel": {channel: {metric: value or null}},
 "skipped": {metric: reason}}.

Usage: duckdb_metrics.py SNAPSHOT_DIR
Needs: duckdb, pyyaml (pip install duckdb pyyaml).
"""

import csv
import json
import os
import re
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))

# Column types of the tables the cross-check reads (snapshot.md). Others are kept as text.
TIMESTAMPS = {
    "leads": ["created_at", "mql_at", "sql_at", "first_response_at", "disqualified_at"],
    "deals": ["created_at", "closed_at"],
    "stage_changes": ["changed_at"],
    "touches": ["at"],
    "customers": ["acquired_at", "churned_at"],
    "payments": ["paid_at"],
    "nps": ["answered_at"],
    "calls": ["at"],
}
MONEY = {"deals": ["amount", "gross_profit"], "spend": ["amount"], "payments": ["amount", "gross_profit"],
         "events": ["cost"]}
INTS = {"nps": ["score"], "calls": ["duration_s"], "traffic": ["visits", "unique_visitors"],
        "events": ["registered", "attended", "target_attended"], "spend": ["impressions", "clicks"],
        "leads": ["company_size"], "customers": ["company_size"]}
BOOLS = {"calls": ["answered"]}
# Source values that mean "no source" besides empty (metrics.md, leads_without_source; the
# list of docs/snapshot.md), compared trimmed and lowercased; a manifest adds its own with
# utm.no_source_values.
NO_SOURCE = ["(not set)", "not set", "(none)", "(direct)", "none", "null", "nil", "undefined",
             "-", "--", "—", "?", "unknown", "(unknown)", "n/a", "(n/a)", "не указан",
             "не указано", "не указана", "не задан", "не определен", "не определён",
             "неизвестно", "неизвестен", "нет", "без источника"]
TABLES = ["leads", "deals", "stage_changes", "touches", "spend", "customers", "payments", "nps",
          "events", "calls", "traffic", "plan"]


def read_rows(path, delimiter=None, encoding=None):
    if path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return [{k: ("" if v is None else str(v) if not isinstance(v, bool) else str(v).lower())
                 for k, v in r.items()} for r in rows]
    raw = open(path, "rb").read()
    enc = encoding or "utf-8-sig"
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        text = raw.decode("cp1251")
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = max([",", ";", "\t"], key=first.count)
    return list(csv.DictReader(text.splitlines(), delimiter=delimiter))


def parse_ts(s, tz):
    s = s.strip()
    if not s:
        return None
    dt = datetime.fromisoformat(s.replace(" ", "T", 1) if len(s) > 10 and s[10] == " " else s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return int(dt.timestamp())


def match_channel(rules, row):
    for r in rules:
        ok = True
        for key in ("source", "medium", "campaign", "origin"):
            allowed = r.get(key)
            if allowed is None:
                continue
            v = (row.get(key) or "").strip().lower()
            if not v or v not in [str(a).strip().lower() for a in allowed]:
                ok = False
                break
        if ok:
            return r["channel"]
    return "(none)"


def main(root):
    manifest = yaml.safe_load(open(os.path.join(root, "snapshot.yaml"), encoding="utf-8"))
    zone = ZoneInfo(manifest["timezone"])
    overrides = manifest.get("tables") or {}
    con = duckdb.connect()
    present = {}
    for name in TABLES:
        o = overrides.get(name) or {}
        if o.get("path"):
            path = os.path.join(root, o["path"])
        else:
            path = next((os.path.join(root, f"{name}.{ext}") for ext in ("csv", "tsv", "jsonl")
                         if os.path.exists(os.path.join(root, f"{name}.{ext}"))), None)
        if not path or not os.path.exists(path):
            continue
        tz = ZoneInfo(o["timezone"]) if o.get("timezone") else zone
        rows = read_rows(path, o.get("delimiter"), o.get("encoding"))
        cols = list(rows[0].keys()) if rows else []
        ts, money, ints, bools = (TIMESTAMPS.get(name, []), MONEY.get(name, []), INTS.get(name, []),
                                  BOOLS.get(name, []))
        if name in ("leads", "touches", "spend", "traffic") and "channel" not in cols:
            cols.append("channel")
        # Python only normalizes cells to text (timestamps to unix seconds, channels derived);
        # DuckDB casts each column to its type.
        data = {"rn": [str(i) for i in range(len(rows))]}
        for c in cols:
            vals = []
            for r in rows:
                v = (r.get(c) or "").strip()
                if c == "channel" and not v and name != "plan":
                    v = match_channel(manifest.get("channels") or [], r)
                if c in ts:
                    t = parse_ts(v, tz)
                    vals.append(None if t is None else str(t))
                    continue
                vals.append(v if v != "" else None)
            data[c] = vals
            if c in ts:
                # Local wall-clock seconds (epoch + UTC offset), for business hours.
                data[c + "_local"] = [None if v is None else str(int(v) + int(
                    datetime.fromtimestamp(int(v), zone).utcoffset().total_seconds())) for v in vals]
        types = {"rn": "BIGINT"}
        for c in cols:
            types[c] = ("BIGINT" if c in ts or c in ints else "DECIMAL(38,4)" if c in money
                        else "BOOLEAN" if c in bools else "DOUBLE" if (name == "plan" and c == "target")
                        else "DATE" if c == "date" else "VARCHAR")
            if c in ts:
                types[c + "_local"] = "BIGINT"
        frame = pd.DataFrame({k: pd.Series(v, dtype="object") for k, v in data.items()})
        con.register("frame", frame)
        select = ", ".join(
            f'CAST(CASE WHEN lower("{c}") IN (\'yes\', \'1\', \'true\') THEN \'true\' '
            f'WHEN lower("{c}") IN (\'no\', \'0\', \'false\') THEN \'false\' END AS BOOLEAN) AS "{c}"'
            if t == "BOOLEAN" else f'CAST("{c}" AS {t}) AS "{c}"'
            for c, t in types.items())
        con.execute(f'CREATE TABLE "{name}" AS SELECT {select} FROM frame')
        con.unregister("frame")
        present[name] = cols
    print(json.dumps(compute(con, manifest, present), sort_keys=True, indent=1))


def compute(con, manifest, present):
    """Run every block of metrics.sql on the loaded tables (`present`: table -> columns);
    also used by bench/duckdb/run.py, which loads the CSVs with DuckDB's own reader."""
    zone = ZoneInfo(manifest["timezone"])

    def day_start(d):
        return int(datetime.combine(d, time(0), tzinfo=zone).timestamp())

    p_from = date.fromisoformat(str(manifest["period"]["from"]))
    p_to = date.fromisoformat(str(manifest["period"]["to"]))
    as_of = str(manifest["as_of"])
    as_of = int(datetime.fromisoformat(as_of.replace(" ", "T")).timestamp())
    sla = (manifest.get("sla") or {})
    utm = manifest.get("utm")
    funnel = manifest.get("funnel") or {}
    params = {
        "ps": day_start(p_from), "pe": day_start(p_to + timedelta(days=1)),
        "pfrom": f"DATE '{p_from}'", "pto": f"DATE '{p_to}'", "as_of": as_of,
        "sla": sla.get("first_response_minutes") or "NULL",
        "window": int(round((manifest.get("dedupe") or {}).get("window_days", 30) * 86400)),
        "cap": (manifest.get("ltv") or {}).get("max_lifetime_months", 60),
        "utm_lower": "TRUE" if (utm or {}).get("lowercase") else "FALSE",
        "utm_sources": sql_list((utm or {}).get("sources") or []),
        "utm_mediums": sql_list((utm or {}).get("mediums") or []),
        "n_sources": len((utm or {}).get("sources") or []),
        "n_mediums": len((utm or {}).get("mediums") or []),
        "no_source": sql_list(sorted(set(
            [""] + NO_SOURCE + [v.strip().lower() for v in (utm or {}).get("no_source_values") or []]))),
        "as_of_local": as_of + int(datetime.fromtimestamp(as_of, zone).utcoffset().total_seconds()),
    }
    bh = sla.get("business_hours")
    if bh:
        hm = lambda x: int(x.split(":")[0]) * 3600 + int(x.split(":")[1]) * 60
        params["bh_from"], params["bh_to"] = hm(bh["from"]), hm(bh["to"])
        iso = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
        params["bh_days"] = "(" + ", ".join(str(iso[d.lower()]) for d in bh["days"]) + ")"
    stages = funnel.get("stages") or []
    con.execute("CREATE TABLE stages (id VARCHAR, idx INTEGER, max_days DOUBLE)")
    if stages:
        con.executemany("INSERT INTO stages VALUES (?, ?, ?)",
                        [[s["id"], i, s.get("max_days")] for i, s in enumerate(stages)])
    overall, skipped, by_channel = {}, {}, {}
    for name, needs, sql in queries():
        missing = [t for t in needs if t not in present]
        if missing:
            skipped[name] = "needs " + ", ".join(missing)
            continue
        if name == "speed" and sla.get("business_hours"):
            continue  # speed_bh instead
        if name == "speed_bh" and not sla.get("business_hours"):
            continue
        # `utm.no_source_values` alone declares no standard.
        if name == "utm" and not (utm and (utm.get("sources") or utm.get("mediums") or utm.get("lowercase"))):
            skipped[name] = "no utm standard"
            continue
        q = sql
        for k, v in params.items():
            q = q.replace("{" + k + "}", str(v))
        res = con.execute(q)
        cols = [d[0] for d in res.description]
        rows = res.fetchall()
        if name == "by_channel":
            for row in rows:
                rec = dict(zip(cols, row))
                ch = rec.pop("channel")
                by_channel[ch] = {k: num(v) for k, v in rec.items()}
        else:
            for k, v in zip(cols, rows[0]):
                overall[k] = num(v)
    # future_timestamps: every timestamp column of every table.
    parts = [f'SELECT count(*) AS n FROM "{t}" WHERE "{c}" > {as_of}'
             for t, cols in present.items() for c in TIMESTAMPS.get(t, []) if c in cols]
    if parts:
        overall["future_timestamps"] = num(con.execute(
            "SELECT sum(n) FROM (" + " UNION ALL ".join(parts) + ")").fetchone()[0])
    return {"overall": overall, "by_channel": by_channel, "skipped": skipped}


def sql_list(values):
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]::VARCHAR[]"


def num(v):
    if v is None:
        return None
    return float(v)


def queries():
    """(name, tables needed, sql) from metrics.sql: blocks headed `-- name: X needs: a, b`."""
    text = open(os.path.join(HERE, "metrics.sql"), encoding="utf-8").read()
    out = []
    for block in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        head, sql = block.split("\n", 1)
        name, _, needs = head.partition(" needs: ")
        out.append((name.strip(), [t.strip() for t in needs.split(",") if t.strip()], sql))
    return out


if __name__ == "__main__":
    main(sys.argv[1])
