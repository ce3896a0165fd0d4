#!/usr/bin/env bash
# The demo: install prerequisites, build and install credit_scoring, start
# PostgreSQL, load a sample portfolio into database credit_demo and show
# what the extension makes of it.
#   scripts/demo.sh [CUSTOMERS]     (default 2000)
source "$(dirname "$0")/common.sh"

customers="${1:-2000}"
"$REPO/scripts/setup.sh"
install_extension
start_cluster

say "creating database credit_demo with $customers customers"
pg -q -c "DROP DATABASE IF EXISTS credit_demo" -c "CREATE DATABASE credit_demo"
pg -q -d credit_demo -c "CREATE EXTENSION credit_scoring"
pg -q -d credit_demo -v customers="$customers" < "$REPO/demo/portfolio.sql"

say "the old service's three examples"
pg -d credit_demo <<'SQL'
SELECT a.*, s.credit_score, s.segment, s.dsr, s.monthly_installment, s.reasons
FROM (VALUES (5000000, 20000000, 10000000, 12),
             (10000000, 5000000, 50000000, 24),
             (2000000, 0, 10000000, 6)) AS a(monthly_income, assets, loan_amount, tenor_months),
     LATERAL credit.score_credit(a.monthly_income, a.assets, a.loan_amount, a.tenor_months) AS s;
SQL

say "attaching scoring to the loans table (customers + loans layout)"
pg -d credit_demo -c "SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers')"

say "scored loans (first 10): the score columns are kept by the triggers"
pg -d credit_demo <<'SQL'
SELECT l.id, l.customer_id, c.monthly_income, c.assets_value, l.principal_amount, l.tenor_months,
       l.credit_score, l.segment, l.default_probability
FROM loans l JOIN customers c ON c.id = l.customer_id
ORDER BY l.id LIMIT 10;
SQL

say "portfolio by segment"
pg -d credit_demo -c "SELECT * FROM credit.portfolio_summary ORDER BY table_name, average_score DESC"

say "a month passes: one customer in ten loses income, a few gain"
pg -d credit_demo <<'SQL'
UPDATE customers SET monthly_income = round(monthly_income * (0.4 + (id % 5) * 0.1), -3)
WHERE id % 10 = 3;
UPDATE customers SET monthly_income = round(monthly_income * 1.25, -3)
WHERE id % 25 = 7;
SQL

say "segment migration and the portfolio after the month"
pg -d credit_demo -c "SELECT * FROM credit.segment_migration ORDER BY table_name, month, loans DESC"
pg -d credit_demo -c "SELECT * FROM credit.portfolio_summary ORDER BY table_name, average_score DESC"

say "open alerts"
pg -d credit_demo <<'SQL'
SELECT kind, count(*) AS alerts FROM credit.open_alerts GROUP BY kind ORDER BY kind;
SELECT id, row_key AS loan, kind, old_score, new_score, score_drop, old_segment, new_segment
FROM credit.open_alerts WHERE kind = 'score_drop'
ORDER BY score_drop DESC, id LIMIT 10;
SQL

say "done: connect with  sudo -u postgres psql credit_demo"
