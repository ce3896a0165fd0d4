-- Scoring: the result type and the functions of SPEC §2.
-- Objects land in schema credit (credit_scoring.control: schema = credit).

COMMENT ON SCHEMA credit IS 'credit_scoring: exact loan scoring, decisions, triggers and alerts';

CREATE TYPE credit.score_result AS (
    credit_score        integer,
    default_probability numeric,
    segment             text,
    dsr                 numeric,
    monthly_installment numeric,
    dsr_points          integer,
    acr_points          integer,
    tenor_points        integer,
    persona             text,
    reasons             text[],
    recommendation      text
);
COMMENT ON TYPE credit.score_result IS
    'One loan''s assessment by a scorecard: score, default probability, segment, DSR, installment, points per factor, persona, reason codes, recommendation';

CREATE FUNCTION credit.score_credit(
    monthly_income numeric, assets numeric, loan_amount numeric, tenor_months integer)
RETURNS credit.score_result
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_score_credit';
COMMENT ON FUNCTION credit.score_credit(numeric, numeric, numeric, integer) IS
    'Scores a loan with the reference scorecard, exactly (SPEC §1); errors 22023 on invalid and 22003 on out-of-range input';

CREATE FUNCTION credit.try_score_credit(
    monthly_income numeric, assets numeric, loan_amount numeric, tenor_months integer)
RETURNS credit.score_result
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_try_score_credit';
COMMENT ON FUNCTION credit.try_score_credit(numeric, numeric, numeric, integer) IS
    'Like score_credit, but NULL instead of an error: for bulk scoring of dirty data (pair with validate_application for the reason)';

CREATE FUNCTION credit.validate_application(
    monthly_income numeric, assets numeric, loan_amount numeric, tenor_months integer)
RETURNS text
IMMUTABLE PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_validate_application';
COMMENT ON FUNCTION credit.validate_application(numeric, numeric, numeric, integer) IS
    'NULL when score_credit accepts these inputs, else the reason it would give (a NULL input is reported as missing)';

CREATE FUNCTION credit.explain_score(
    monthly_income numeric, assets numeric, loan_amount numeric, tenor_months integer)
RETURNS jsonb
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_explain_score';
COMMENT ON FUNCTION credit.explain_score(numeric, numeric, numeric, integer) IS
    'The old scoring API''s JSON response (credit_score, default_probability, segment, dsr, monthly_installment, assessment) plus persona, reasons and recommendation';

-- risk_summary: the old bulk endpoint's totals plus counts per segment.
CREATE FUNCTION credit.risk_summary_step(state jsonb, r credit.score_result)
RETURNS jsonb
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
LANGUAGE sql AS $$
    -- A rejected row reaches us as NULL, or from LATERAL as a row of NULLs.
    SELECT CASE WHEN r.credit_score IS NULL THEN state ELSE jsonb_build_object(
        'total_rows', (state->>'total_rows')::bigint + 1,
        'high_risk_count', (state->>'high_risk_count')::bigint + (r.segment = 'high')::int,
        'segments', jsonb_set(state->'segments', ARRAY[r.segment],
                              to_jsonb(coalesce((state->'segments'->>r.segment)::bigint, 0) + 1))) END
$$;
COMMENT ON FUNCTION credit.risk_summary_step(jsonb, credit.score_result) IS
    'State transition of credit.risk_summary';

CREATE FUNCTION credit.risk_summary_combine(a jsonb, b jsonb)
RETURNS jsonb
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'total_rows', (a->>'total_rows')::bigint + (b->>'total_rows')::bigint,
        'high_risk_count', (a->>'high_risk_count')::bigint + (b->>'high_risk_count')::bigint,
        'segments', coalesce((
            SELECT jsonb_object_agg(k, coalesce((a->'segments'->>k)::bigint, 0) + coalesce((b->'segments'->>k)::bigint, 0))
            FROM (SELECT jsonb_object_keys(a->'segments') UNION SELECT jsonb_object_keys(b->'segments')) AS keys(k)
        ), '{}'::jsonb))
$$;
COMMENT ON FUNCTION credit.risk_summary_combine(jsonb, jsonb) IS
    'Combines two partial states of credit.risk_summary (parallel aggregation)';

CREATE AGGREGATE credit.risk_summary(credit.score_result) (
    sfunc = credit.risk_summary_step,
    stype = jsonb,
    combinefunc = credit.risk_summary_combine,
    initcond = '{"total_rows": 0, "high_risk_count": 0, "segments": {}}',
    parallel = safe
);
COMMENT ON AGGREGATE credit.risk_summary(credit.score_result) IS
    'The old bulk endpoint''s figures over scored rows: total_rows, high_risk_count (segment high) and counts per segment; NULL results (rejected rows) are not counted';

-- Instant decisions (SPEC §9), from the same evaluation as the score.
CREATE TYPE credit.decision_result AS (
    decision         text,
    decision_reasons text[],
    credit_score     integer,
    segment          text,
    scorecard        text
);
COMMENT ON TYPE credit.decision_result IS
    'An instant decision: approve, review or decline, the rules that led there, and the score and segment it rests on';

CREATE FUNCTION credit.decide(
    monthly_income numeric, assets numeric, loan_amount numeric, tenor_months integer)
RETURNS credit.decision_result
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_decide';
COMMENT ON FUNCTION credit.decide(numeric, numeric, numeric, integer) IS
    'Decides an application with the reference scorecard''s policy: approve, review or decline, with reasons (SPEC §9); errors as score_credit';

-- Named scorecards (SPEC §6): STABLE, not IMMUTABLE, as they read
-- credit.scorecards (a scorecard in use never changes, but an unused one may).
CREATE FUNCTION credit.score_credit(
    monthly_income numeric, assets numeric, loan_amount numeric, tenor_months integer, scorecard text)
RETURNS credit.score_result
STABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_score_credit_named';
COMMENT ON FUNCTION credit.score_credit(numeric, numeric, numeric, integer, text) IS
    'Scores a loan with the named scorecard of credit.scorecards (compiled once per backend); errors as the 4-argument score_credit, 42704 for an unknown scorecard';

CREATE FUNCTION credit.decide(
    monthly_income numeric, assets numeric, loan_amount numeric, tenor_months integer, scorecard text)
RETURNS credit.decision_result
STABLE STRICT PARALLEL SAFE
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_decide_named';
COMMENT ON FUNCTION credit.decide(numeric, numeric, numeric, integer, text) IS
    'Decides an application with the named scorecard''s decision policy';
