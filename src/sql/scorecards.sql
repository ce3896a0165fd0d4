-- Scorecards as data (SPEC §6): JSON definitions, validated with serde on
-- the way in, immutable once in use (a change is a new name).

CREATE TABLE credit.scorecards (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]+$'),
    definition    jsonb NOT NULL,
    description   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL DEFAULT current_user,
    first_used_at timestamptz
);
COMMENT ON TABLE credit.scorecards IS
    'Scorecards: weights, bands, thresholds and decision policy as JSON (see credit.lint_scorecard); a scorecard in use (first_used_at set) cannot change or go: insert a new version under a new name';
COMMENT ON COLUMN credit.scorecards.definition IS 'The definition; stored in canonical form (every field present)';
COMMENT ON COLUMN credit.scorecards.first_used_at IS 'When a scored table first used it (credit.enable_scoring); from then on it is immutable';
-- Anyone may read the weights (score_credit(..., name) reads them as the
-- caller); writing them is for roles the DBA grants INSERT to.
GRANT SELECT ON credit.scorecards TO PUBLIC;

CREATE FUNCTION credit.scorecards_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND (OLD.name = 'reference' OR OLD.first_used_at IS NOT NULL) THEN
        RAISE EXCEPTION 'scorecard "%" is in use and cannot change', OLD.name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Insert the new version under a new name and attach it with credit.enable_scoring(..., scorecard => ''new_name'').';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    NEW.definition := credit.check_scorecard(NEW.definition);
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION credit.scorecards_guard() IS
    'Trigger on credit.scorecards: validates definitions and keeps scorecards in use immutable';
CREATE TRIGGER scorecards_guard BEFORE INSERT OR UPDATE OR DELETE ON credit.scorecards
    FOR EACH ROW EXECUTE FUNCTION credit.scorecards_guard();

COMMENT ON FUNCTION credit.reference_scorecard() IS 'The reference scorecard''s JSON definition';
COMMENT ON FUNCTION credit.check_scorecard(jsonb) IS
    'Validates a scorecard definition (22023 naming the JSON path when invalid) and returns it in canonical form';
COMMENT ON FUNCTION credit.lint_scorecard(jsonb) IS
    'Reports the reachable score range and scores, unreachable segments, default probabilities, personas, bands, decisions and decision codes, and points that run the wrong way';

INSERT INTO credit.scorecards (name, definition, description, first_used_at)
VALUES ('reference', credit.reference_scorecard(),
        'The weights of the old scoring service (SPEC §1) and the reference decision policy (SPEC §9)', now());

-- pg_dump keeps the scorecards users add (reference comes with the extension).
SELECT pg_catalog.pg_extension_config_dump('credit.scorecards', 'WHERE name <> ''reference''');
