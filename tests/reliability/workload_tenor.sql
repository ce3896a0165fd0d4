-- pgbench script: a random loan's tenor changes (the loan is rescored by the
-- row trigger, which reads its customer's income and assets FOR SHARE).
\set lid random(1, :nloans)
\set tenor 6 * random(1, 12)
UPDATE loans SET tenor_months = :tenor WHERE id = :lid;
