-- A deterministic sample portfolio shaped like a consumer lender's book:
-- customers (monthly income, assets) and their loans (principal, tenor),
-- the old service's normalized layout. Same rows on every run.
--   psql -v customers=2000 -f demo/portfolio.sql
\if :{?customers}
\else
\set customers 2000
\endif

DROP TABLE IF EXISTS loans, customers;

CREATE TABLE customers (
    id             bigint PRIMARY KEY,
    monthly_income numeric(14,2),
    assets_value   numeric(16,2)
);

CREATE TABLE loans (
    id               bigint PRIMARY KEY,
    customer_id      bigint NOT NULL REFERENCES customers(id),
    principal_amount numeric(16,2) NOT NULL,
    tenor_months     integer NOT NULL
);

-- u(i, k): a reproducible uniform number in [0, 1) for row i, stream k.
CREATE FUNCTION pg_temp.u(i bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE
    AS $$ SELECT ('x' || substr(md5(i::text || ':' || k), 1, 8))::bit(32)::bigint / 4294967296.0 $$;

-- Incomes are log-normal-ish (1.5M to ~60M a month, median ~6M), assets
-- from nothing to several years of income; loans 1 to 4 per customer.
INSERT INTO customers
SELECT i,
       round((1500000 * exp(3.7 * pg_temp.u(i, 1) ^ 1.6))::numeric, -3),
       CASE WHEN pg_temp.u(i, 2) < 0.15 THEN 0
            ELSE round((1500000 * exp(3.7 * pg_temp.u(i, 1) ^ 1.6) * 40 * pg_temp.u(i, 3) ^ 2)::numeric, -4) END
FROM generate_series(1, :customers) AS i;

INSERT INTO loans
SELECT row_number() OVER (ORDER BY c.id, n),
       c.id,
       round((c.monthly_income * (1 + 12 * pg_temp.u(c.id * 10 + n, 4) ^ 2))::numeric, -5),
       (ARRAY[6, 12, 12, 18, 24, 24, 36, 36, 48, 60])[1 + floor(10 * pg_temp.u(c.id * 10 + n, 5))::int]
FROM customers c, generate_series(1, 1 + floor(4 * pg_temp.u(c.id, 6) ^ 2)::int) AS n;

ANALYZE customers, loans;
