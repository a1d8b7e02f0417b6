#!/usr/bin/env python3
"""pandas' side of bench/compare.sh: the metric set of the metrics cross-check
(tests/crosscheck/metrics.sql, metrics.md) computed with pandas on a snapshot made by
`marqa generate`, written as JSON in the shape of bench/duckdb/run.py's output:
{"overall": {metric: value or null}, "by_channel": {channel: {...}}, "skipped": {}}.

Written to the SQL's definitions, block by block (the comments name the block); compare.sh
checks that both agree. Vectorized throughout (no Python loop over rows).

Usage: metrics.py SNAPSHOT_DIR OUT.json
"""

import json
import os
import sys

import numpy as np
import pandas as pd
import yaml

TS = {
    "leads": ["created_at", "mql_at", "sql_at", "first_response_at", "disqualified_at"],
    "deals": ["created_at", "closed_at"],
    "stage_changes": ["changed_at"],
    "touches": ["at"],
    "customers": ["acquired_at", "churned_at"],
    "payments": ["paid_at"],
    "nps": ["answered_at"],
    "calls": ["at"],
}
MONEY = {"deals": ["amount", "gross_profit"], "spend": ["amount"],
         "payments": ["amount", "gross_profit"], "events": ["cost"]}
INTS = {"nps": ["score"], "calls": ["duration_s"], "traffic": ["visits", "unique_visitors"],
        "events": ["registered", "attended", "target_attended"], "spend": ["impressions", "clicks"],
        "leads": ["company_size"], "customers": ["company_size"]}
# Source values that mean "no source" (metrics.md, leads_without_source; the list of
# docs/snapshot.md), compared trimmed and lowercased; utm.no_source_values adds to it.
NO_SOURCE = ["(not set)", "not set", "(none)", "(direct)", "none", "null", "nil", "undefined",
             "-", "--", "—", "?", "unknown", "(unknown)", "n/a", "(n/a)", "не указан",
             "не указано", "не указана", "не задан", "не определен", "не определён",
             "неизвестно", "неизвестен", "нет", "без источника", ""]
DAY = 86400


def secs(t):
    """Datetimes (any resolution; pandas 3 parses to microseconds) -> whole unix seconds."""
    return t.dt.as_unit("s").astype("int64")


def epoch(s, zone):
    """Timestamp text -> unix seconds (float, NaN for empty): cells with an offset as written,
    naive ones in `zone`."""
    s = s.str.strip()
    out = pd.Series(np.nan, index=s.index)
    offset = s.str.len() > 19
    if offset.any():
        t = pd.to_datetime(s[offset], format="ISO8601", utc=True)
        out[offset] = secs(t)
    naive = (s.str.len() > 0) & ~offset
    if naive.any():
        t = pd.to_datetime(s[naive], format="ISO8601").dt.tz_localize(
            zone, ambiguous="NaT", nonexistent="shift_forward")
        out[naive] = secs(t)
    return out


def local(sec, zone):
    """Unix seconds -> local wall-clock seconds."""
    ok = sec.notna()
    out = pd.Series(np.nan, index=sec.index)
    if ok.any():
        t = pd.to_datetime(sec[ok].astype("int64"), unit="s", utc=True).dt.tz_convert(zone)
        out[ok] = secs(t.dt.tz_localize(None))
    return out


def channel(df, rules):
    """First matching rule of the manifest's channel map, else '(none)'."""
    out = pd.Series("(none)", index=df.index, dtype=object)
    done = pd.Series(False, index=df.index)
    low = {k: df[k].fillna("").str.strip().str.lower() for k in ("source", "medium", "campaign", "origin")
           if k in df}
    for r in rules:
        m = ~done
        for key in ("source", "medium", "campaign", "origin"):
            if r.get(key) is None:
                continue
            allowed = [str(a).strip().lower() for a in r[key]]
            m &= low[key].isin(allowed) & (low[key] != "") if key in low else False
        out[m] = r["channel"]
        done |= m
    return out


def load(root, manifest):
    zone = manifest["timezone"]
    over = manifest.get("tables") or {}
    rules = manifest.get("channels") or []
    t = {}
    for name in ["leads", "deals", "stage_changes", "touches", "spend", "customers", "payments",
                 "nps", "events", "calls", "traffic", "plan"]:
        o = over.get(name) or {}
        path = os.path.join(root, o["path"]) if o.get("path") else next(
            (os.path.join(root, f"{name}.{e}") for e in ("csv", "tsv", "jsonl")
             if os.path.exists(os.path.join(root, f"{name}.{e}"))), None)
        if not path or not os.path.exists(path):
            continue
        if path.endswith(".jsonl"):
            df = pd.read_json(path, lines=True, dtype=False).astype(object)
            df = df.where(df.notna(), "").astype(str)
        else:
            sep = o.get("delimiter") or ("\t" if path.endswith(".tsv") else ",")
            enc = "cp1251" if o.get("encoding") == "windows-1251" else "utf-8-sig"
            df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=enc)
        tz = o.get("timezone") or zone
        for c in df.columns:
            if c in TS.get(name, []):
                df[c] = epoch(df[c], tz)
            elif c in MONEY.get(name, []) or c in INTS.get(name, []) or (name == "plan" and c == "target"):
                df[c] = pd.to_numeric(df[c].str.strip().replace("", np.nan))
            elif c == "date":
                df[c] = pd.to_datetime(df[c].str.strip(), format="%Y-%m-%d")
            elif c == "answered":
                df[c] = df[c].str.strip().str.lower().map(
                    {"yes": True, "1": True, "true": True, "no": False, "0": False, "false": False})
            else:
                df[c] = df[c].str.strip().replace("", None)
        if name in ("leads", "touches", "spend", "traffic"):
            derived = channel(df, rules)
            df["channel"] = df["channel"].fillna(derived) if "channel" in df else derived
        df["rn"] = np.arange(len(df))
        t[name] = df
    return t


def nz(x):
    """NULLIF(x, 0)."""
    return None if x is None or x == 0 or (isinstance(x, float) and np.isnan(x)) else x


def div(a, b):
    b = nz(b)
    if a is None or b is None or (isinstance(a, float) and np.isnan(a)):
        return None
    return a / b


def q(s, p):
    s = s.dropna()
    return None if s.empty else float(s.quantile(p))


def main(root, out):
    manifest = yaml.safe_load(open(os.path.join(root, "snapshot.yaml"), encoding="utf-8"))
    zone = manifest["timezone"]
    t = load(root, manifest)
    leads, deals, sc, spend = t["leads"], t["deals"], t["stage_changes"], t["spend"]
    cust_t, pay = t["customers"], t["payments"]
    p_from = pd.Timestamp(str(manifest["period"]["from"]))
    p_to = pd.Timestamp(str(manifest["period"]["to"]))
    ps = pd.Timestamp(p_from, tz=zone).value // 10**9
    pe = pd.Timestamp(p_to + pd.Timedelta(days=1), tz=zone).value // 10**9
    as_of = pd.Timestamp(str(manifest["as_of"]).replace(" ", "T")).value // 10**9
    sla = (manifest.get("sla") or {})
    cap = (manifest.get("ltv") or {}).get("max_lifetime_months", 60)
    window = int(round((manifest.get("dedupe") or {}).get("window_days", 30) * DAY))
    o = {}

    def in_p(s):
        return (s >= ps) & (s < pe)

    p = leads[in_p(leads.created_at)]
    first_rn = leads.groupby("lead_id").rn.min()
    first = leads.loc[first_rn.values]

    # funnel
    won_ids = deals.loc[deals.status == "won", "lead_id"].dropna().unique()
    won_rn = set(first_rn.reindex(won_ids).dropna().astype(int))
    n, mql, sql_ = len(p), int(p.mql_at.notna().sum()), int(p.sql_at.notna().sum())
    won_leads = int(p.rn.isin(won_rn).sum())
    o.update(leads=n, mql=mql, sql=sql_, won_leads=won_leads, lead_to_mql=div(mql, n),
             mql_to_sql=div(sql_, mql), sql_to_won=div(won_leads, sql_), lead_to_won=div(won_leads, n))

    # sales
    fc = first.set_index("lead_id").created_at
    closed = deals[in_p(deals.closed_at) & deals.status.isin(["won", "lost"])]
    start = closed.lead_id.map(fc).fillna(closed.created_at)
    cycle = (closed.closed_at - start) / DAY
    won = closed.status == "won"
    nw, nl = int(won.sum()), int((closed.status == "lost").sum())
    amt = closed.amount[won].dropna()
    o.update(won_deals=nw, lost_deals=nl, win_rate=div(nw, len(closed)),
             avg_deal_size=None if amt.empty else float(amt.mean()),
             won_without_amount=int((won & closed.amount.isna()).sum()),
             sales_cycle_days=q(cycle[won], 0.5), sales_cycle_days_p90=q(cycle[won], 0.9))

    # pipeline
    stages = (manifest.get("funnel") or {}).get("stages") or []
    idx = {s["id"]: i for i, s in enumerate(stages)}
    max_days = {s["id"]: s.get("max_days") for s in stages}
    m = deals[["deal_id", "rn", "stage"]].merge(sc[["deal_id", "to_stage", "changed_at"]], on="deal_id")
    entered = m[m.to_stage == m.stage].groupby("rn").changed_at.max()
    md = deals.stage.map(max_days)
    since = deals.rn.map(entered).fillna(deals.created_at)
    stuck = (deals.status == "open") & md.notna() & ((as_of - since) / DAY > md)
    fi, ti = sc.from_stage.map(idx), sc.to_stage.map(idx)
    o.update(stuck_deals=int(stuck.sum()), backward_moves=int((ti < fi).sum()))

    # speed / speed_bh
    if sla.get("first_response_minutes") is not None:
        lim = sla["first_response_minutes"]
        answered = p.first_response_at.notna()
        bh = sla.get("business_hours")
        if bh:
            hm = lambda x: int(x.split(":")[0]) * 3600 + int(x.split(":")[1]) * 60
            f, to = hm(bh["from"]), hm(bh["to"])
            days = [d.lower() for d in bh["days"]]
            mask = "".join("1" if d in days else "0" for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
            a = local(p.created_at, zone)
            as_of_local = as_of + (pd.Timestamp(as_of, unit="s", tz="UTC").tz_convert(zone).utcoffset()
                                   .total_seconds())
            b = local(p.first_response_at, zone).fillna(as_of_local)

            def cum(x):
                # Business seconds from 1970-01-01 (local) to x.
                d = (x // DAY).astype("int64").values
                open_before = np.busday_count(np.datetime64("1970-01-01"), d.astype("datetime64[D]"),
                                              weekmask=mask)
                today = np.is_busday(d.astype("datetime64[D]"), weekmask=mask)
                part = np.clip(x.values - d * DAY - f, 0, to - f)
                return open_before * (to - f) + np.where(today, part, 0)

            kept = (b // DAY) >= (a // DAY)  # the SQL's day series is empty otherwise
            minutes = pd.Series(np.maximum(cum(b) - cum(a), 0) / 60.0, index=p.index)[kept]
            ans = answered[kept]
            young = int((~ans & (minutes <= lim)).sum())
            unans = int((~ans & (minutes > lim)).sum())
            late = int((ans & (minutes > lim)).sum())
            o.update(answered_leads=int(ans.sum()), response_minutes_median=q(minutes[ans], 0.5),
                     response_minutes_p90=q(minutes[ans], 0.9))
        else:
            minutes = (p.first_response_at - p.created_at) / 60.0
            age = (as_of - p.created_at) / 60.0
            young = int((~answered & (age <= lim)).sum())
            unans = int((~answered & (age > lim)).sum())
            late = int((answered & (minutes > lim)).sum())
            o.update(answered_leads=int(answered.sum()), response_minutes_median=q(minutes, 0.5),
                     response_minutes_p90=q(minutes, 0.9))
        o.update(unanswered_leads=unans, sla_breaches=late + unans,
                 sla_breach_share=div(late + unans, n - young))

    # money_in
    in_dates = spend[(spend.date >= p_from) & (spend.date <= p_to)]
    sp = in_dates.amount.sum(min_count=1)
    sp = None if pd.isna(sp) else float(sp)
    won_close = deals[deals.status == "won"].groupby("account_id").closed_at.min()
    cust = cust_t.drop_duplicates("account_id", keep="first").copy()
    cust["acquired"] = cust.acquired_at.fillna(cust.account_id.map(won_close))
    newc = int(in_p(cust.acquired).sum())
    o.update(spend=sp, cpl=div(sp, n), cost_per_mql=div(sp, mql), cost_per_sql=div(sp, sql_),
             new_customers=newc, cac=div(sp, newc))

    # money_out
    pp = pay[in_p(pay.paid_at)]
    rev = pp.amount.sum(min_count=1)
    gp = pp.gross_profit.sum(min_count=1)
    rev, gp = (None if pd.isna(rev) else float(rev)), (None if pd.isna(gp) else float(gp))
    acq = cust[in_p(cust.acquired)]
    ap = pay[pay.account_id.isin(acq.account_id) & (pay.paid_at <= as_of)]
    arev, agp = float(ap.amount.sum()), float(ap.gross_profit.sum())
    o.update(revenue=rev, gross_profit=gp, attributed_revenue=arev, attributed_gross_profit=agp,
             romi=None if sp is None else div(agp - sp, sp),
             romi_revenue=None if sp is None else div(arev - sp, sp))

    # customer_value
    c = cust[cust.acquired.notna()]
    end = np.minimum(c.churned_at.fillna(as_of), as_of)
    span = np.maximum(0, np.minimum(end, pe) - np.maximum(c.acquired, ps))
    months = float(span.sum()) / DAY / 30.4375 if len(c) else None
    churned = int(in_p(cust.churned_at).sum())
    churn_rate = div(churned, months)
    arpa = div(gp, months)
    cac = div(sp, newc)
    lifetime = None
    if months:
        lifetime = cap if churn_rate == 0 else min(1 / churn_rate, cap)
    ltv = None if arpa is None or lifetime is None else arpa * lifetime
    o.update(active_customer_months=months, churned_customers=churned, churn_rate_monthly=churn_rate,
             arpa_gp_monthly=arpa, lifetime_months=lifetime, ltv=ltv,
             ltv_cac=None if ltv is None else div(ltv, cac),
             cac_payback_months=None if cac is None else div(cac, arpa))

    # repeat
    base = cust.loc[cust.acquired < pe, ["account_id"]]
    pj = pay[pay.paid_at <= as_of][["account_id", "deal_id", "paid_at"]].copy()
    pj["month"] = pd.to_datetime(local(pj.paid_at, zone), unit="s").dt.strftime("%Y-%m")
    per = base.merge(pj, on="account_id", how="left").groupby("account_id").agg(
        deals=("deal_id", "nunique"), months=("month", "nunique"))
    rep = ((per.deals >= 2) | ((per.deals == 0) & (per.months >= 2))).sum()
    o.update(repeat_purchase_rate=div(int(rep), len(per)))

    # nps
    if "nps" in t:
        nps = t["nps"]
        r = nps[in_p(nps.answered_at)].sort_values("answered_at").drop_duplicates("account_id", keep="last")
        k = len(r)
        o.update(nps_responses=k, nps=None if k == 0 else
                 100.0 * (int((r.score >= 9).sum()) - int((r.score <= 6).sum())) / k)

    # quality, utm
    src = p.source.fillna("").str.strip().str.lower()
    utm = manifest.get("utm")
    own = [v.strip().lower() for v in (utm or {}).get("no_source_values") or []]
    no_source = p.source.isna() | src.isin(NO_SOURCE + own)
    o.update(leads_without_source=int(no_source.sum()), leads_without_source_share=div(int(no_source.sum()), n))
    # `utm.no_source_values` alone declares no standard.
    if utm and (utm.get("sources") or utm.get("mediums") or utm.get("lowercase")):
        sources, mediums = utm.get("sources") or [], utm.get("mediums") or []
        bad = pd.Series(False, index=p.index)
        if sources:
            bad |= ~p.source.isin(sources)
        if mediums:
            bad |= p.medium.isna() | ~p.medium.isin(mediums)
        if utm.get("lowercase"):
            bad |= (p.source != p.source.str.lower()) | (p.medium.notna() & (p.medium != p.medium.str.lower()))
        v = int((~no_source & bad).sum())
        o.update(utm_violations=v, utm_violations_share=div(v, n))

    # duplicates
    em = leads.email.fillna("").str.strip()
    ek = leads.loc[em != "", ["rn", "created_at"]].assign(k="e:" + em[em != ""].str.lower())
    d = leads.phone.dropna().str.replace(r"[^0-9]", "", regex=True)
    d = d[d != ""]
    d = d.where(~((d.str.len() == 11) & d.str.startswith("8")), "7" + d.str[1:])
    d = d.where(d.str.len() != 10, "7" + d)
    pk = leads.loc[d.index, ["rn", "created_at"]].assign(k="p:" + d)
    keys = pd.concat([ek, pk]).sort_values(["k", "created_at", "rn"], na_position="last")
    gap = keys.groupby("k").created_at.diff()
    dup = set(keys.rn[gap.notna() & (gap <= window)])
    nd = int(p.rn.isin(dup).sum())
    o.update(duplicate_leads=nd, duplicate_leads_share=div(nd, n))

    # entry
    o.update(manual_entry_share=div(int((p.entry_method == "manual").sum()), n))

    # orphans
    od = ((deals.lead_id.notna() & ~deals.lead_id.isin(leads.lead_id))
          | (deals.account_id.notna() & ~deals.account_id.isin(cust_t.account_id)))
    op = ((pay.account_id.notna() & ~pay.account_id.isin(cust_t.account_id))
          | (pay.deal_id.notna() & ~pay.deal_id.isin(deals.deal_id)))
    o.update(orphan_deals=int(od.sum()), orphan_payments=int(op.sum()))

    # channels
    # `(none)` (rows no channel claims) is not a channel.
    sp_ch = set(in_dates.channel.dropna()) - {"(none)"}
    l_ch = set(p.channel.dropna())
    paid = p[p.medium.fillna("").str.lower().isin(["cpc", "cpm"])]
    o.update(unmatched_spend_channels=len(sp_ch - l_ch),
             paid_channels_without_spend=len(set(paid.channel.dropna()) - sp_ch - {"(none)"}))

    # calls
    if "calls" in t:
        cl = t["calls"]
        o.update(calls_without_lead=int((cl.answered.fillna(False).astype(bool) & (cl.duration_s > 30)
                                         & cl.lead_id.isna() & in_p(cl["at"])).sum()))

    # traffic
    if "traffic" in t:
        tr = t["traffic"]
        tr = tr[(tr.date >= p_from) & (tr.date <= p_to)]
        visits = tr.visits.sum(min_count=1)
        uv = tr.unique_visitors.sum(min_count=1)
        visits = None if pd.isna(visits) else float(visits)
        o.update(visits=visits, unique_visitors=None if pd.isna(uv) else float(uv),
                 visit_to_lead=div(n, visits))

    # events
    if "events" in t:
        ev = t["events"]
        e = ev[(ev.date >= p_from) & (ev.date <= p_to) & ev.target_attended.notna()]
        res = {}
        for suffix, sel in (("", e.index == e.index), ("_online", e.format == "online"),
                            ("_offline", e.format == "offline")):
            x = e[sel]
            res["event_target_attendance" + suffix] = float(x.target_attended.sum())
            cost = x.cost.sum(min_count=1)
            res["cost_per_target_attendee" + suffix] = None if pd.isna(cost) else div(
                float(cost), float(x.target_attended[x.cost.notna()].sum()))
        o.update(res)

    # by_channel (attribution model `lead`)
    own = leads.loc[leads.account_id.isin(cust.account_id), ["rn", "account_id"]]
    vd = deals[["rn", "lead_id", "account_id"]].rename(columns={"rn": "drn"}).merge(
        first[["rn", "lead_id"]], on="lead_id")
    vd = vd[vd.account_id.isin(cust.account_id) & ~vd.rn.isin(own.rn)]
    vd = vd.sort_values(["rn", "drn"]).drop_duplicates("rn")[["rn", "account_id"]]
    link = pd.concat([own, vd]).merge(leads[["rn", "channel", "created_at"]], on="rn")
    link = link.sort_values(["account_id", "created_at", "rn"], na_position="last")
    cch = link.drop_duplicates("account_id").set_index("account_id").channel
    cust["channel"] = cust.account_id.map(cch).fillna("(none)")
    lead_c = p.groupby("channel").size()
    spend_c = in_dates.groupby("channel").amount.sum()
    acq = cust[in_p(cust.acquired)]
    new_c = acq.groupby("channel").size()
    ap = pay[(pay.paid_at <= as_of)].merge(acq[["account_id", "channel"]], on="account_id")
    attr_c = ap.groupby("channel").gross_profit.sum()
    rp = pp.merge(cust[["account_id", "channel"]], on="account_id", how="left")
    rev_c = rp.assign(channel=rp.channel.fillna("(none)")).groupby("channel").amount.sum()
    by = {}
    for ch in sorted(set(lead_c.index) | set(spend_c.index) | set(new_c.index) | set(rev_c.index)):
        le = int(lead_c.get(ch, 0))
        # Spend of `(none)` is no channel's: no CPL, CAC or ROMI.
        s = float(spend_c[ch]) if ch in spend_c.index and ch != "(none)" else None
        nc = int(new_c.get(ch, 0))
        by[ch] = {"leads": le, "spend": float(spend_c[ch]) if ch in spend_c.index else 0.0, "cpl": None if s is None else div(s, le),
                  "new_customers": nc, "cac": None if s is None else div(s, nc),
                  "romi": None if s is None else div(float(attr_c.get(ch, 0)) - s, s),
                  "revenue": float(rev_c.get(ch, 0))}

    # future_timestamps
    o["future_timestamps"] = sum(int((t[name][c] > as_of).sum()) for name, cols in TS.items()
                                 if name in t for c in cols if c in t[name])
    result = {"overall": {k: None if v is None else float(v) for k, v in o.items()},
              "by_channel": {ch: {k: None if v is None else float(v) for k, v in m.items()}
                             for ch, m in by.items()},
              "skipped": {}}
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh, sort_keys=True, indent=1)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
