#!/usr/bin/env python3
"""Generate docs/b2b-core.md from the rules of rules/b2b-core (every rule: id, step,
severity, title, what it checks, params).

    python3 rules/b2b-core/tools/docs_page.py           # rewrite docs/b2b-core.md
    python3 rules/b2b-core/tools/docs_page.py --check   # exit 1 when the page is stale (CI)
"""
import glob
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
PACK = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(PACK))
PAGE = os.path.join(ROOT, "docs", "b2b-core.md")
STEPS = ["goals", "data_sources", "funnel", "channels", "customers", "unit_economics",
         "reporting", "processes", "tech_stack", "kpis", "plan", "actions"]


def en(text):
    if isinstance(text, dict):
        return text.get("en", "")
    return text or ""


def cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def what(rule):
    if "check" in rule:
        s = f"`{rule['check']}`"
    elif "rows" in rule:
        r = rule["rows"]
        conds = {k: v for k, v in r.items() if k not in ("table", "in_period", "filter")}
        s = f"rows of `{r['table']}`"
        if r.get("filter"):
            s += f" where {json_inline(r['filter'])}"
        s += " offending on " + ", ".join(f"{k} {json_inline(v)}" for k, v in conds.items())
    elif "require" in rule:
        s = "manifest has " + ", ".join(f"`{p}`" for p in rule["require"])
    else:
        s = f"script `{rule['script']}`"
    if rule.get("per"):
        s += f" per {rule['per']}"
    if rule.get("needs"):
        s += " (needs " + ", ".join(rule["needs"]) + ")"
    return s


def json_inline(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {json_inline(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(json_inline(x) for x in v) + "]"
    return f"`{v}`" if not isinstance(v, str) or not v.startswith("`") else v


def render():
    rules = []
    for path in sorted(glob.glob(os.path.join(PACK, "rules", "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            rules.extend(d for d in yaml.safe_load_all(f) if d)
    rules.sort(key=lambda r: (STEPS.index(r["step"]), r["id"]))
    out = ["# The built-in pack `b2b-core`", "",
           "Generated from `rules/b2b-core/rules/*.yaml` by `python3 rules/b2b-core/tools/docs_page.py`;",
           "CI runs it with `--check`, so this page cannot go stale. Each step is a row of the audit",
           "method (audit-steps.md); `marqa rules explain ID` prints a rule in full, with its rationale",
           "and recommendation in English or Russian.", "",
           f"{len(rules)} rules.", ""]
    for step in STEPS:
        rs = [r for r in rules if r["step"] == step]
        if not rs:
            continue
        out += [f"## {step}", "", "| id | severity | title | what it checks | params | owner |",
                "|---|---|---|---|---|---|"]
        for r in rs:
            params = ", ".join(f"`{k}: {json_inline(v) if isinstance(v, (list, dict)) else v}`"
                               for k, v in (r.get("params") or {}).items())
            owner = (r.get("recommendation") or {}).get("owner", "")
            out.append(f"| `{r['id']}` | {r['severity']} | {cell(en(r['title']))} | {cell(what(r))} | "
                       f"{cell(params)} | {owner} |")
        out.append("")
        for r in rs:
            doc = en(r.get("docs"))
            if doc:
                out += [f"**`{r['id']}`** — " + " ".join(doc.split()), ""]
    return "\n".join(out)


def main():
    page = render()
    if "--check" in sys.argv:
        try:
            with open(PAGE, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = ""
        if current != page:
            print("docs/b2b-core.md is stale: run `python3 rules/b2b-core/tools/docs_page.py` and commit it")
            return 1
        return 0
    tmp = PAGE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, PAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
