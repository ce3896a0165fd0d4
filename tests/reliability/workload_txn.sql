-- pgbench script (WORKLOAD=txn): one transaction changes a random
-- customer's income and a random loan's tenor, in that order.
\set cid random(1, :ncustomers)
\set income random(300, 60000) * 1000
\set lid random(1, :nloans)
\set tenor 6 * random(1, 12)
BEGIN;
UPDATE customers SET monthly_income = :income WHERE id = :cid;
UPDATE loans SET tenor_months = :tenor WHERE id = :lid;
COMMIT;
