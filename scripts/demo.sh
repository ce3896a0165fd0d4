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

say "scored loans (first 10)"
pg -d credit_demo <<'SQL'
SELECT l.id, l.customer_id, c.monthly_income, c.assets_value, l.principal_amount, l.tenor_months,
       s.credit_score, s.segment, s.dsr, s.reasons
FROM loans l JOIN customers c ON c.id = l.customer_id,
     LATERAL credit.score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                 l.principal_amount, l.tenor_months) AS s
ORDER BY l.id LIMIT 10;
SQL

say "portfolio by segment"
pg -d credit_demo <<'SQL'
SELECT s.segment, count(*) AS loans, sum(l.principal_amount) AS exposure,
       round(avg(s.credit_score), 1) AS avg_score,
       sum(s.default_probability * l.principal_amount) AS expected_loss
FROM loans l JOIN customers c ON c.id = l.customer_id,
     LATERAL credit.score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                 l.principal_amount, l.tenor_months) AS s
GROUP BY s.segment ORDER BY min(s.credit_score) DESC;
SELECT jsonb_pretty(credit.risk_summary(s)) AS risk_summary
FROM loans l JOIN customers c ON c.id = l.customer_id,
     LATERAL credit.score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                 l.principal_amount, l.tenor_months) AS s;
SQL

say "done: connect with  sudo -u postgres psql credit_demo"
