-- pgbench script: a new loan for a random customer (scored on INSERT; the
-- race with a concurrent income change of the same customer is the one the
-- row trigger's FOR SHARE lookup exists for).
\set cid random(1, :ncustomers)
\set amount random(10, 6000) * 100000
\set tenor 6 * random(1, 12)
INSERT INTO loans (customer_id, principal_amount, tenor_months) VALUES (:cid, :amount, :tenor);
