-- pgbench script: a random customer's monthly income changes (all of the
-- customer's loans are rescored by the extension's statement trigger).
\set cid random(1, :ncustomers)
\set income random(300, 60000) * 1000
UPDATE customers SET monthly_income = :income WHERE id = :cid;
