-- The metric definitions of metrics.md, written independently of marqa's Rust code as
-- DuckDB SQL. duckdb_metrics.py loads the snapshot (timestamps as unix seconds, money as
-- DECIMAL, channels derived), substitutes {ps} {pe} (period start/end instants), {pfrom}
-- {pto} (period dates), {as_of}, {sla}, {window}, {cap}, the utm lists and {no_source} (the
-- lowercased spellings of "no source", '' included), and runs each
-- block. A block returns one row whose columns are metric names (by_channel: one row per
-- channel).

-- name: funnel needs: leads, deals
WITH p AS (SELECT * FROM leads WHERE created_at >= {ps} AND created_at < {pe}),
first_lead AS (SELECT lead_id, min(rn) AS rn FROM leads GROUP BY lead_id),
won AS (SELECT DISTINCT f.rn FROM deals d JOIN first_lead f ON f.lead_id = d.lead_id WHERE d.status = 'won'),
c AS (SELECT count(*) AS leads, count(mql_at) AS mql, count(sql_at) AS sql,
             count(*) FILTER (WHERE rn IN (SELECT rn FROM won)) AS won_leads FROM p)
SELECT leads, mql, sql, won_leads,
       mql / nullif(leads, 0) AS lead_to_mql, sql / nullif(mql, 0) AS mql_to_sql,
       won_leads / nullif(sql, 0) AS sql_to_won, won_leads / nullif(leads, 0) AS lead_to_won
FROM c;

-- name: sales needs: leads, deals
WITH first_lead AS (SELECT lead_id, arg_min(created_at, rn) AS created_at FROM leads GROUP BY lead_id),
closed AS (
  SELECT d.*, (d.closed_at - coalesce(l.created_at, d.created_at)) / 86400.0 AS cycle
  FROM deals d LEFT JOIN first_lead l ON l.lead_id = d.lead_id
  WHERE d.closed_at >= {ps} AND d.closed_at < {pe} AND d.status IN ('won', 'lost'))
SELECT count(*) FILTER (WHERE status = 'won') AS won_deals,
       count(*) FILTER (WHERE status = 'lost') AS lost_deals,
       count(*) FILTER (WHERE status = 'won') / nullif(count(*), 0) AS win_rate,
       avg(amount::DOUBLE) FILTER (WHERE status = 'won' AND amount IS NOT NULL) AS avg_deal_size,
       count(*) FILTER (WHERE status = 'won' AND amount IS NULL) AS won_without_amount,
       quantile_cont(cycle, 0.5) FILTER (WHERE status = 'won') AS sales_cycle_days,
       quantile_cont(cycle, 0.9) FILTER (WHERE status = 'won') AS sales_cycle_days_p90
FROM closed;

-- name: pipeline needs: deals, stage_changes
WITH entered AS (
  SELECT d.deal_id, d.rn, max(sc.changed_at) AS at
  FROM deals d JOIN stage_changes sc ON sc.deal_id = d.deal_id AND sc.to_stage = d.stage
  GROUP BY d.deal_id, d.rn)
SELECT
  (SELECT count(*) FROM deals d JOIN stages s ON s.id = d.stage
     LEFT JOIN entered e ON e.rn = d.rn
   WHERE d.status = 'open' AND s.max_days IS NOT NULL
     AND ({as_of} - coalesce(e.at, d.created_at)) / 86400.0 > s.max_days) AS stuck_deals,
  (SELECT count(*) FROM stage_changes sc JOIN stages f ON f.id = sc.from_stage
     JOIN stages t ON t.id = sc.to_stage WHERE t.idx < f.idx) AS backward_moves;

-- name: speed needs: leads
WITH p AS (SELECT *, (first_response_at - created_at) / 60.0 AS minutes,
                  ({as_of} - created_at) / 60.0 AS age
           FROM leads WHERE created_at >= {ps} AND created_at < {pe}),
c AS (SELECT count(*) AS leads,
             count(first_response_at) AS answered_leads,
             quantile_cont(minutes, 0.5) AS response_minutes_median,
             quantile_cont(minutes, 0.9) AS response_minutes_p90,
             count(*) FILTER (WHERE first_response_at IS NULL AND age > {sla}) AS unanswered_leads,
             count(*) FILTER (WHERE first_response_at IS NOT NULL AND minutes > {sla}) AS late,
             count(*) FILTER (WHERE first_response_at IS NULL AND age <= {sla}) AS young
      FROM p)
SELECT answered_leads, response_minutes_median, response_minutes_p90, unanswered_leads,
       late + unanswered_leads AS sla_breaches,
       (late + unanswered_leads) / nullif(leads - young, 0) AS sla_breach_share
FROM c;

-- name: speed_bh needs: leads
-- With sla.business_hours: only seconds inside business hours count. Each lead's span, in
-- local wall-clock seconds, is cut into local days; each open weekday contributes its overlap
-- with [from, to).
WITH p AS (SELECT rn, first_response_at IS NOT NULL AS answered, created_at_local AS a,
                  coalesce(first_response_at_local, {as_of_local}) AS b
           FROM leads WHERE created_at >= {ps} AND created_at < {pe}),
days AS (SELECT rn, answered, a, b, unnest(generate_series(a // 86400, b // 86400)) AS d FROM p),
secs AS (SELECT rn, answered,
                sum(CASE WHEN isodow(DATE '1970-01-01' + d::INTEGER) IN {bh_days}
                         THEN greatest(0, least(b, d * 86400 + {bh_to}) - greatest(a, d * 86400 + {bh_from}))
                         ELSE 0 END) / 60.0 AS minutes
         FROM days GROUP BY rn, answered),
c AS (SELECT (SELECT count(*) FROM p) AS leads,
             count(*) FILTER (WHERE answered) AS answered_leads,
             quantile_cont(minutes, 0.5) FILTER (WHERE answered) AS response_minutes_median,
             quantile_cont(minutes, 0.9) FILTER (WHERE answered) AS response_minutes_p90,
             count(*) FILTER (WHERE NOT answered AND minutes > {sla}) AS unanswered_leads,
             count(*) FILTER (WHERE answered AND minutes > {sla}) AS late,
             count(*) FILTER (WHERE NOT answered AND minutes <= {sla}) AS young
      FROM secs)
SELECT answered_leads, response_minutes_median, response_minutes_p90, unanswered_leads,
       late + unanswered_leads AS sla_breaches,
       (late + unanswered_leads) / nullif(leads - young, 0) AS sla_breach_share
FROM c;

-- name: money_in needs: leads, spend, customers, deals
WITH sp AS (SELECT sum(amount) AS spend FROM spend WHERE date BETWEEN {pfrom} AND {pto}),
p AS (SELECT count(*) AS leads, count(mql_at) AS mql, count(sql_at) AS sql FROM leads
      WHERE created_at >= {ps} AND created_at < {pe}),
cust AS (SELECT c.account_id, coalesce(c.acquired_at,
           (SELECT min(d.closed_at) FROM deals d WHERE d.account_id = c.account_id AND d.status = 'won')) AS acquired
         FROM customers c QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY rn) = 1),
nc AS (SELECT count(*) AS new_customers FROM cust WHERE acquired >= {ps} AND acquired < {pe})
SELECT spend, spend::DOUBLE / nullif(leads, 0) AS cpl, spend::DOUBLE / nullif(mql, 0) AS cost_per_mql,
       spend::DOUBLE / nullif(sql, 0) AS cost_per_sql, new_customers, spend::DOUBLE / nullif(new_customers, 0) AS cac
FROM sp, p, nc;

-- name: money_out needs: customers, payments, deals, spend
WITH cust AS (SELECT c.account_id, coalesce(c.acquired_at,
           (SELECT min(d.closed_at) FROM deals d WHERE d.account_id = c.account_id AND d.status = 'won')) AS acquired
         FROM customers c QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY rn) = 1),
pay AS (SELECT sum(amount) AS revenue, sum(gross_profit) AS gross_profit FROM payments
        WHERE paid_at >= {ps} AND paid_at < {pe}),
attr AS (SELECT coalesce(sum(p.amount), 0) AS attributed_revenue,
                coalesce(sum(p.gross_profit), 0) AS attributed_gross_profit
         FROM payments p JOIN cust c ON c.account_id = p.account_id
         WHERE c.acquired >= {ps} AND c.acquired < {pe} AND p.paid_at <= {as_of}),
sp AS (SELECT sum(amount) AS spend FROM spend WHERE date BETWEEN {pfrom} AND {pto})
SELECT revenue, gross_profit, attributed_revenue, attributed_gross_profit,
       (attributed_gross_profit - spend)::DOUBLE / nullif(spend::DOUBLE, 0) AS romi,
       (attributed_revenue - spend)::DOUBLE / nullif(spend::DOUBLE, 0) AS romi_revenue
FROM pay, attr, sp;

-- name: customer_value needs: customers, payments, deals, spend
WITH cust AS (SELECT c.account_id, c.churned_at, coalesce(c.acquired_at,
           (SELECT min(d.closed_at) FROM deals d WHERE d.account_id = c.account_id AND d.status = 'won')) AS acquired
         FROM customers c QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY rn) = 1),
active AS (SELECT sum(greatest(0, least(coalesce(least(churned_at, {as_of}), {as_of}), {pe}) - greatest(acquired, {ps})))
                    / 86400.0 / 30.4375 AS months
           FROM cust WHERE acquired IS NOT NULL),
churn AS (SELECT count(*) AS churned FROM cust WHERE churned_at >= {ps} AND churned_at < {pe}),
gp AS (SELECT sum(gross_profit) AS gross_profit FROM payments WHERE paid_at >= {ps} AND paid_at < {pe}),
sp AS (SELECT sum(amount) AS spend FROM spend WHERE date BETWEEN {pfrom} AND {pto}),
nc AS (SELECT count(*) AS n FROM cust WHERE acquired >= {ps} AND acquired < {pe}),
v AS (SELECT months, churned, churned / nullif(months, 0) AS churn_rate,
             gross_profit::DOUBLE / nullif(months, 0) AS arpa, spend::DOUBLE / nullif(n, 0) AS cac
      FROM active, churn, gp, sp, nc),
l AS (SELECT *, CASE WHEN months IS NULL OR months = 0 THEN NULL
                     WHEN churn_rate = 0 THEN {cap} ELSE least(1 / churn_rate, {cap}) END AS lifetime FROM v)
SELECT months AS active_customer_months, churned AS churned_customers, churn_rate AS churn_rate_monthly,
       arpa AS arpa_gp_monthly, lifetime AS lifetime_months, arpa * lifetime AS ltv,
       arpa * lifetime / nullif(cac, 0) AS ltv_cac, cac / nullif(arpa, 0) AS cac_payback_months
FROM l;

-- name: repeat needs: customers, payments, deals
WITH cust AS (SELECT c.account_id, coalesce(c.acquired_at,
           (SELECT min(d.closed_at) FROM deals d WHERE d.account_id = c.account_id AND d.status = 'won')) AS acquired
         FROM customers c QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY rn) = 1),
per AS (SELECT c.account_id,
               count(DISTINCT p.deal_id) AS deals,
               count(DISTINCT strftime(DATE '1970-01-01' + (p.paid_at_local // 86400)::INTEGER, '%Y-%m')) AS months
        FROM cust c LEFT JOIN payments p ON p.account_id = c.account_id AND p.paid_at <= {as_of}
        WHERE c.acquired < {pe}
        GROUP BY c.account_id)
SELECT count(*) FILTER (WHERE (deals > 0 AND deals >= 2) OR (deals = 0 AND months >= 2))
         / nullif(count(*), 0) AS repeat_purchase_rate
FROM per;

-- name: nps needs: nps
WITH latest AS (SELECT account_id, arg_max(score, answered_at) AS score FROM nps
                WHERE answered_at >= {ps} AND answered_at < {pe} GROUP BY account_id)
SELECT count(*) AS nps_responses,
       100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / nullif(count(*), 0) AS nps
FROM latest;

-- name: quality needs: leads
WITH p AS (SELECT * FROM leads WHERE created_at >= {ps} AND created_at < {pe}),
flags AS (SELECT *, (source IS NULL OR list_contains({no_source}, lower(trim(source)))) AS no_source
          FROM p)
SELECT count(*) FILTER (WHERE no_source) AS leads_without_source,
       count(*) FILTER (WHERE no_source) / nullif(count(*), 0) AS leads_without_source_share
FROM flags;

-- name: utm needs: leads
WITH p AS (SELECT * FROM leads WHERE created_at >= {ps} AND created_at < {pe}),
f AS (SELECT (source IS NULL OR list_contains({no_source}, lower(trim(source)))) AS no_source,
             ({n_sources} > 0 AND NOT list_contains({utm_sources}, source))
             OR ({n_mediums} > 0 AND (medium IS NULL OR NOT list_contains({utm_mediums}, medium)))
             OR ({utm_lower} AND (source <> lower(source) OR coalesce(medium <> lower(medium), FALSE))) AS bad
      FROM p)
SELECT count(*) FILTER (WHERE NOT no_source AND bad) AS utm_violations,
       count(*) FILTER (WHERE NOT no_source AND bad) / nullif(count(*), 0) AS utm_violations_share
FROM f;

-- name: duplicates needs: leads
WITH keys AS (
  SELECT rn, created_at, 'e:' || lower(trim(email)) AS k FROM leads WHERE nullif(trim(email), '') IS NOT NULL
  UNION ALL
  SELECT rn, created_at, 'p:' || CASE
      WHEN length(d) = 11 AND d[1] = '8' THEN '7' || d[2:]
      WHEN length(d) = 10 THEN '7' || d ELSE d END
  FROM (SELECT rn, created_at, regexp_replace(phone, '[^0-9]', '', 'g') AS d FROM leads WHERE phone IS NOT NULL)
  WHERE d <> ''),
prev AS (SELECT rn, created_at, created_at - lag(created_at) OVER (PARTITION BY k ORDER BY created_at, rn) AS gap
         FROM keys),
dup AS (SELECT DISTINCT rn FROM prev WHERE gap IS NOT NULL AND gap <= {window}),
p AS (SELECT rn FROM leads WHERE created_at >= {ps} AND created_at < {pe})
SELECT count(*) FILTER (WHERE rn IN (SELECT rn FROM dup)) AS duplicate_leads,
       count(*) FILTER (WHERE rn IN (SELECT rn FROM dup)) / nullif(count(*), 0) AS duplicate_leads_share
FROM p;

-- name: entry needs: leads
SELECT count(*) FILTER (WHERE entry_method = 'manual') / nullif(count(*), 0) AS manual_entry_share
FROM leads WHERE created_at >= {ps} AND created_at < {pe};

-- name: orphans needs: leads, deals, customers, payments
SELECT
  (SELECT count(*) FROM deals d
   WHERE (d.lead_id IS NOT NULL AND d.lead_id NOT IN (SELECT lead_id FROM leads))
      OR (d.account_id IS NOT NULL AND d.account_id NOT IN (SELECT account_id FROM customers))) AS orphan_deals,
  (SELECT count(*) FROM payments p
   WHERE (p.account_id IS NOT NULL AND p.account_id NOT IN (SELECT account_id FROM customers))
      OR (p.deal_id IS NOT NULL AND p.deal_id NOT IN (SELECT deal_id FROM deals))) AS orphan_payments;

-- name: channels needs: leads, spend
WITH sp AS (SELECT DISTINCT channel FROM spend WHERE date BETWEEN {pfrom} AND {pto}),
l AS (SELECT * FROM leads WHERE created_at >= {ps} AND created_at < {pe})
SELECT
  -- `(none)` (rows no channel claims) is not a channel.
  (SELECT count(*) FROM sp WHERE channel NOT IN (SELECT channel FROM l)
     AND channel <> '(none)') AS unmatched_spend_channels,
  (SELECT count(DISTINCT channel) FROM l WHERE lower(medium) IN ('cpc', 'cpm')
     AND channel NOT IN (SELECT channel FROM sp) AND channel <> '(none)') AS paid_channels_without_spend;

-- name: calls needs: calls
SELECT count(*) AS calls_without_lead FROM calls
WHERE answered AND duration_s > 30 AND lead_id IS NULL AND "at" >= {ps} AND "at" < {pe};

-- name: traffic needs: traffic, leads
WITH t AS (SELECT sum(visits) AS visits, sum(unique_visitors) AS unique_visitors FROM traffic
           WHERE date BETWEEN {pfrom} AND {pto}),
l AS (SELECT count(*) AS leads FROM leads WHERE created_at >= {ps} AND created_at < {pe})
SELECT visits, unique_visitors, leads / nullif(visits, 0) AS visit_to_lead FROM t, l;

-- name: events needs: events
WITH e AS (SELECT * FROM events WHERE date BETWEEN {pfrom} AND {pto} AND target_attended IS NOT NULL)
SELECT coalesce(sum(target_attended), 0) AS event_target_attendance,
       coalesce(sum(target_attended) FILTER (WHERE format = 'online'), 0) AS event_target_attendance_online,
       coalesce(sum(target_attended) FILTER (WHERE format = 'offline'), 0) AS event_target_attendance_offline,
       sum(cost)::DOUBLE / nullif(sum(target_attended) FILTER (WHERE cost IS NOT NULL), 0) AS cost_per_target_attendee,
       (sum(cost) FILTER (WHERE format = 'online'))::DOUBLE
         / nullif(sum(target_attended) FILTER (WHERE format = 'online' AND cost IS NOT NULL), 0) AS cost_per_target_attendee_online,
       (sum(cost) FILTER (WHERE format = 'offline'))::DOUBLE
         / nullif(sum(target_attended) FILTER (WHERE format = 'offline' AND cost IS NOT NULL), 0) AS cost_per_target_attendee_offline
FROM e;

-- name: by_channel needs: leads, deals, customers, payments, spend
-- Attribution model `lead`: a customer's channel is the channel of its earliest lead, the
-- leads being those whose account_id is the customer, else those linked by a deal.
WITH cust AS (SELECT c.account_id, coalesce(c.acquired_at,
           (SELECT min(d.closed_at) FROM deals d WHERE d.account_id = c.account_id AND d.status = 'won')) AS acquired
         FROM customers c QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY rn) = 1),
first_lead AS (SELECT * FROM leads QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY rn) = 1),
own AS (SELECT l.rn, l.account_id FROM leads l JOIN cust c ON c.account_id = l.account_id),
via_deal AS (SELECT DISTINCT ON (l.rn) l.rn, d.account_id
             FROM deals d JOIN first_lead l ON l.lead_id = d.lead_id JOIN cust c ON c.account_id = d.account_id
             WHERE l.rn NOT IN (SELECT rn FROM own) ORDER BY l.rn, d.rn),
link AS (SELECT * FROM own UNION ALL SELECT * FROM via_deal),
cust_channel AS (SELECT c.account_id, c.acquired,
                   coalesce((SELECT arg_min(l.channel, (l.created_at, l.rn)) FROM link k JOIN leads l ON l.rn = k.rn
                             WHERE k.account_id = c.account_id), '(none)') AS channel
                 FROM cust c),
lead_c AS (SELECT channel, count(*) AS leads FROM leads WHERE created_at >= {ps} AND created_at < {pe} GROUP BY channel),
spend_c AS (SELECT channel, sum(amount) AS spend FROM spend WHERE date BETWEEN {pfrom} AND {pto} GROUP BY channel),
new_c AS (SELECT channel, count(*) AS new_customers FROM cust_channel WHERE acquired >= {ps} AND acquired < {pe} GROUP BY channel),
attr_c AS (SELECT c.channel, sum(p.gross_profit) AS agp FROM payments p JOIN cust_channel c ON c.account_id = p.account_id
           WHERE c.acquired >= {ps} AND c.acquired < {pe} AND p.paid_at <= {as_of} GROUP BY c.channel),
rev_c AS (SELECT coalesce(c.channel, '(none)') AS channel, sum(p.amount) AS revenue
          FROM payments p LEFT JOIN cust_channel c ON c.account_id = p.account_id
          WHERE p.paid_at >= {ps} AND p.paid_at < {pe} GROUP BY 1),
chans AS (SELECT channel FROM lead_c UNION SELECT channel FROM spend_c UNION SELECT channel FROM new_c
          UNION SELECT channel FROM rev_c)
-- Spend of `(none)` is no channel's: no CPL, CAC or ROMI.
SELECT ch.channel, coalesce(l.leads, 0) AS leads, coalesce(s.spend, 0) AS spend,
       CASE WHEN ch.channel <> '(none)' THEN s.spend::DOUBLE / nullif(l.leads, 0) END AS cpl,
       coalesce(n.new_customers, 0) AS new_customers,
       CASE WHEN ch.channel <> '(none)' THEN s.spend::DOUBLE / nullif(n.new_customers, 0) END AS cac,
       CASE WHEN ch.channel <> '(none)' THEN (coalesce(a.agp, 0) - s.spend)::DOUBLE / nullif(s.spend::DOUBLE, 0) END AS romi,
       coalesce(r.revenue, 0) AS revenue
FROM chans ch LEFT JOIN lead_c l USING (channel) LEFT JOIN spend_c s USING (channel)
  LEFT JOIN new_c n USING (channel) LEFT JOIN attr_c a USING (channel) LEFT JOIN rev_c r USING (channel);
