-- reliability.ref_score: the reference scorecard of SPEC sections 1 and 9
-- written again in plain SQL numeric, independently of the extension (no
-- call into credit.*), so that the invariants do not only compare the
-- extension with itself.  Band edges are compared cross-multiplied, exactly
-- as the spec states them.
CREATE SCHEMA IF NOT EXISTS reliability;

CREATE OR REPLACE FUNCTION reliability.ref_score(
    income numeric, assets numeric, amount numeric, tenor integer,
    OUT credit_score integer, OUT default_probability numeric, OUT segment text, OUT decision text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT s,
           CASE WHEN s >= 750 THEN 0.01 WHEN s >= 650 THEN 0.05 WHEN s >= 550 THEN 0.15 ELSE 0.40 END,
           CASE WHEN s >= 700 THEN 'low' WHEN s >= 550 THEN 'medium' ELSE 'high' END,
           CASE WHEN income <= 0 OR amount * 1.15 > 0.60 * income * tenor OR s < 450 THEN 'decline'
                WHEN s >= 550 AND amount * 1.15 <= 0.40 * income * tenor THEN 'approve'
                ELSE 'review' END
    FROM (SELECT least(850, greatest(300, 300
                 + CASE WHEN income <= 0 THEN -200
                        WHEN amount * 1.15 <= 0.30 * income * tenor THEN 150
                        WHEN amount * 1.15 <= 0.40 * income * tenor THEN 100
                        WHEN amount * 1.15 <= 0.50 * income * tenor THEN 0
                        ELSE -150 END
                 + CASE WHEN amount <= 0 THEN 0
                        WHEN assets >= 1.2 * amount THEN 100
                        WHEN assets >= 0.8 * amount THEN 50
                        ELSE -50 END
                 + CASE WHEN tenor <= 12 THEN 50 WHEN tenor <= 24 THEN 20 WHEN tenor <= 36 THEN -20
                        ELSE -50 END))::integer AS s) AS p
$$;

-- Is a history row's DSR above the dsr_critical ratio (0.60, reference margin 0.15)?
CREATE OR REPLACE FUNCTION reliability.dsr_critical(score integer, income numeric, amount numeric, tenor integer)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT score IS NOT NULL AND income > 0 AND amount * 1.15 > 0.60 * income * tenor
$$;
