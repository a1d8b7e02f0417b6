-- Loads a snapshot made by `marqa generate` into DuckDB with DuckDB's own CSV reader, typed the
-- way tests/crosscheck/duckdb_metrics.py types it (so tests/crosscheck/metrics.sql runs on it
-- unchanged): timestamps as unix seconds (naive ones in the manifest's zone, or the table's),
-- plus `<col>_local` (local wall-clock seconds) for business hours; money as DECIMAL(18,4) (sums widen to 38 digits);
-- channels derived from the manifest's map when the file has none. Each table is stored as
-- `<name>_t` in file order; the view `<name>` adds `rn`, the row number (DuckDB's rowid:
-- cheaper than a row_number() window over the whole table).
--
-- bench/duckdb/run.py substitutes {dir} (the snapshot folder), {tz} (manifest timezone),
-- {calls} / {calls_tz} / {calls_delim} (the calls table's path, zone and delimiter) and
-- {channel_<table>} (a CASE expression over source, medium, campaign, origin built from the
-- manifest's `channels`), then runs each statement.

SET TimeZone = '{tz}';

-- A timestamp cell: with an offset (`Z`, `+03:00`) as written, naive ones in `zone`.
CREATE MACRO ts_in(x, zone) AS CASE
  WHEN nullif(trim(x), '') IS NULL THEN NULL
  WHEN length(trim(x)) > 19 THEN epoch(CAST(trim(x) AS TIMESTAMPTZ))
  ELSE epoch(timezone(zone, CAST(trim(x) AS TIMESTAMP))) END::BIGINT;
CREATE MACRO ts(x) AS ts_in(x, '{tz}');
-- Unix seconds to local wall-clock seconds in the session zone.
CREATE MACRO local_s(t) AS epoch(CAST(to_timestamp(t) AS TIMESTAMP))::BIGINT;
CREATE MACRO money(x) AS CAST(nullif(trim(x), '') AS DECIMAL(18, 4));
CREATE MACRO int_(x) AS CAST(nullif(trim(x), '') AS BIGINT);
CREATE MACRO txt(x) AS nullif(trim(x), '');

CREATE TABLE leads_t AS
SELECT *, {channel_leads} AS channel, local_s(created_at) AS created_at_local, local_s(mql_at) AS mql_at_local,
       local_s(sql_at) AS sql_at_local, local_s(first_response_at) AS first_response_at_local,
       local_s(disqualified_at) AS disqualified_at_local
FROM (SELECT txt(lead_id) AS lead_id, ts(created_at) AS created_at, txt(source) AS source, txt(medium) AS medium,
             txt(campaign) AS campaign, txt(content) AS content, txt(term) AS term, txt(email) AS email, txt(phone) AS phone,
             txt(contact) AS contact, txt(company) AS company, txt(company_domain) AS company_domain,
             txt(account_id) AS account_id, txt(owner) AS owner, txt(status) AS status, ts(mql_at) AS mql_at,
             ts(sql_at) AS sql_at, ts(first_response_at) AS first_response_at, ts(disqualified_at) AS disqualified_at,
             txt(lost_reason) AS lost_reason, txt(segment) AS segment, txt(industry) AS industry,
             int_(company_size) AS company_size, txt(region) AS region, txt(origin) AS origin,
             txt(entry_method) AS entry_method
      FROM read_csv('{dir}/leads.csv', all_varchar = true, header = true)) t;

CREATE TABLE deals_t AS
SELECT txt(deal_id) AS deal_id, ts(created_at) AS created_at, txt(lead_id) AS lead_id,
       txt(account_id) AS account_id, txt(stage) AS stage, txt(status) AS status, ts(closed_at) AS closed_at,
       money(amount) AS amount, money(gross_profit) AS gross_profit, txt(product) AS product, txt(owner) AS owner,
       txt(lost_reason) AS lost_reason
FROM read_csv('{dir}/deals.csv', all_varchar = true, header = true);

CREATE TABLE stage_changes_t AS
SELECT txt(deal_id) AS deal_id, txt(from_stage) AS from_stage, txt(to_stage) AS to_stage,
       ts(changed_at) AS changed_at
FROM read_csv('{dir}/stage_changes.csv', all_varchar = true, header = true);

CREATE TABLE touches_t AS
SELECT *, {channel_touches} AS channel FROM (SELECT txt(lead_id) AS lead_id, ts("at") AS "at", txt(source) AS source,
                  txt(medium) AS medium, txt(campaign) AS campaign, txt(kind) AS kind
           FROM read_csv('{dir}/touches.csv', all_varchar = true, header = true)) t;

CREATE TABLE spend_t AS
SELECT * EXCLUDE (given), coalesce(given, {channel_spend}) AS channel FROM (SELECT CAST(date AS DATE) AS date, txt(channel) AS given, txt(source) AS source,
                  txt(medium) AS medium, txt(campaign) AS campaign, money(amount) AS amount,
                  int_(impressions) AS impressions, int_(clicks) AS clicks
           FROM read_csv('{dir}/spend.csv', all_varchar = true, header = true)) t;

CREATE TABLE customers_t AS
SELECT txt(account_id) AS account_id, txt(name) AS name, txt(segment) AS segment,
       txt(industry) AS industry, int_(company_size) AS company_size, txt(region) AS region,
       ts(acquired_at) AS acquired_at, ts(churned_at) AS churned_at
FROM read_csv('{dir}/customers.csv', all_varchar = true, header = true);

CREATE TABLE payments_t AS
SELECT *, local_s(paid_at) AS paid_at_local FROM (SELECT txt(payment_id) AS payment_id, txt(account_id) AS account_id,
                  txt(deal_id) AS deal_id, ts(paid_at) AS paid_at, money(amount) AS amount,
                  money(gross_profit) AS gross_profit
           FROM read_csv('{dir}/payments.csv', all_varchar = true, header = true)) t;

CREATE TABLE nps_t AS
SELECT CAST(account_id AS VARCHAR) AS account_id, ts(CAST(answered_at AS VARCHAR)) AS answered_at,
       CAST(score AS BIGINT) AS score
FROM read_json('{dir}/nps.jsonl', format = 'newline_delimited',
               columns = {account_id: 'VARCHAR', answered_at: 'VARCHAR', score: 'BIGINT', comment: 'VARCHAR'});

CREATE TABLE events_t AS
SELECT txt(event_id) AS event_id, txt(name) AS name, txt(kind) AS kind,
       txt(format) AS format, CAST(date AS DATE) AS date, money(cost) AS cost, int_(registered) AS registered,
       int_(attended) AS attended, int_(target_attended) AS target_attended, txt(city) AS city
FROM read_csv('{dir}/events.csv', all_varchar = true, header = true);

-- The call-tracking export: Windows-1251 text; every column the metrics read is ASCII, so it is
-- read as Latin-1 (DuckDB has no Windows-1251 decoder without a downloaded extension).
CREATE TABLE calls_t AS
SELECT txt(call_id) AS call_id, ts_in("at", '{calls_tz}') AS "at", txt(source) AS source,
       txt(medium) AS medium, txt(campaign) AS campaign,
       CAST(CASE WHEN lower(trim(answered)) IN ('yes', '1', 'true') THEN 'true'
                 WHEN lower(trim(answered)) IN ('no', '0', 'false') THEN 'false' END AS BOOLEAN) AS answered,
       int_(duration_s) AS duration_s, txt(lead_id) AS lead_id
FROM read_csv('{dir}/{calls}', all_varchar = true, header = true, delim = '{calls_delim}', encoding = 'latin-1');

CREATE TABLE traffic_t AS
SELECT *, {channel_traffic} AS channel FROM (SELECT CAST(date AS DATE) AS date, txt(source) AS source, txt(medium) AS medium,
                  int_(visits) AS visits, int_(unique_visitors) AS unique_visitors
           FROM read_csv('{dir}/traffic.tsv', all_varchar = true, header = true, delim = '\t')) t;

CREATE TABLE plan_t AS
SELECT txt(period) AS period, txt(metric) AS metric, txt(channel) AS channel,
       CAST(nullif(trim(target), '') AS DOUBLE) AS target
FROM read_csv('{dir}/plan.csv', all_varchar = true, header = true);

CREATE VIEW leads AS SELECT rowid AS rn, * FROM leads_t;
CREATE VIEW deals AS SELECT rowid AS rn, * FROM deals_t;
CREATE VIEW stage_changes AS SELECT rowid AS rn, * FROM stage_changes_t;
CREATE VIEW touches AS SELECT rowid AS rn, * FROM touches_t;
CREATE VIEW spend AS SELECT rowid AS rn, * FROM spend_t;
CREATE VIEW customers AS SELECT rowid AS rn, * FROM customers_t;
CREATE VIEW payments AS SELECT rowid AS rn, * FROM payments_t;
CREATE VIEW nps AS SELECT rowid AS rn, * FROM nps_t;
CREATE VIEW events AS SELECT rowid AS rn, * FROM events_t;
CREATE VIEW calls AS SELECT rowid AS rn, * FROM calls_t;
CREATE VIEW traffic AS SELECT rowid AS rn, * FROM traffic_t;
CREATE VIEW plan AS SELECT rowid AS rn, * FROM plan_t;
