#!/usr/bin/env python3
"""Soda Core's side of bench/compare.sh: the data-quality checks of marqa's built-in pack that
Soda contracts can express, on a snapshot made by `marqa generate`: every table's row count,
missing and duplicate ids, leads without a source (the same "no source" values as
metrics.md), duplicate lead emails (exact, without marqa's time window) and deals without a
stage. The CSVs are loaded into an in-memory DuckDB with DuckDB's reader (as text), and Soda
Core (soda-duckdb, verified locally: no Soda Cloud) runs one contract per table.

Writes {"checks": [{"dataset", "column", "check", "outcome", "value"}...]} as JSON.

Usage: checks.py SNAPSHOT_DIR OUT.json
"""

import json
import logging
import os
import sys
import tempfile

import duckdb
import soda_core.plugins  # noqa: F401  (registers the DuckDB data source before it is used)
from soda_core.contracts.api.verify_api import verify_contract_locally
from soda_duckdb.common.data_sources.duckdb_data_source import DuckDBDataSourceImpl

# marqa's built-in "no source" spellings (docs/snapshot.md); Soda compares exactly, so the
# usual capitalized forms are listed too.
NO_SOURCE = ["(not set)", "not set", "(none)", "(direct)", "none", "null", "nil", "undefined",
             "-", "--", "—", "?", "unknown", "(unknown)", "n/a", "(n/a)", "не указан",
             "не указано", "не указана", "не задан", "не определен", "не определён",
             "неизвестно", "неизвестен", "нет", "без источника", "",
             "NULL", "None", "Unknown", "N/A", "Не указан", "Нет"]

CONTRACTS = {
    "leads": {"columns": [
        {"name": "lead_id", "checks": [{"missing": None}, {"duplicate": None}]},
        {"name": "created_at", "checks": [{"missing": None}]},
        {"name": "source", "missing_values": NO_SOURCE, "checks": [{"missing": None}]},
        {"name": "email", "checks": [{"duplicate": None}]},
    ]},
    "deals": {"columns": [
        {"name": "deal_id", "checks": [{"missing": None}, {"duplicate": None}]},
        {"name": "stage", "checks": [{"missing": None}]},
    ]},
    "payments": {"columns": [
        {"name": "payment_id", "checks": [{"missing": None}, {"duplicate": None}]},
        {"name": "paid_at", "checks": [{"missing": None}]},
    ]},
    "customers": {"columns": [
        {"name": "account_id", "checks": [{"missing": None}, {"duplicate": None}]},
    ]},
    "touches": {"columns": [{"name": "lead_id", "checks": [{"missing": None}]}]},
    "stage_changes": {"columns": [{"name": "deal_id", "checks": [{"missing": None}]}]},
}


def to_yaml(value, indent=0):
    """The small YAML subset the contracts need (no PyYAML dependency on Soda's side)."""
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if v is None:
                lines.append(f"{pad}{k}:")
            elif isinstance(v, (dict, list)):
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {json.dumps(v)}")
        return "\n".join(lines)
    lines = []
    for item in value:
        body = to_yaml(item, indent + 1).lstrip() if isinstance(item, (dict, list)) else json.dumps(item)
        lines.append(f"{pad}- {body}")
    return "\n".join(lines)


def main(root, out):
    logging.disable(logging.WARNING)
    con = duckdb.connect()
    for name in CONTRACTS:
        path = os.path.join(os.path.abspath(root), f"{name}.csv").replace("'", "''")
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{path}', all_varchar = true)")
    ds = DuckDBDataSourceImpl.from_existing_cursor(con, "bench")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in CONTRACTS.items():
            contract = {"dataset": f"bench/memory/main/{name}", "checks": [{"row_count": None}], **body}
            path = os.path.join(tmp, f"{name}.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(to_yaml(contract) + "\n")
            session = verify_contract_locally(data_sources=[ds], contract_file_path=path)
            if session.has_errors:
                sys.exit(f"soda failed on {name}: {session.get_errors_str()}")
            for cr in session.contract_verification_results:
                for r in cr.check_results:
                    results.append({"dataset": name, "column": getattr(r.check, "column_name", None),
                                    "check": r.check.type, "outcome": r.outcome.name,
                                    "value": r.threshold_value})
    tmp_out = out + ".tmp"
    with open(tmp_out, "w", encoding="utf-8") as f:
        json.dump({"checks": results}, f, indent=1)
    os.replace(tmp_out, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
