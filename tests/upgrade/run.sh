#!/usr/bin/env bash
# The upgrade path: install the previous version, fill it with data,
# ALTER EXTENSION credit_scoring UPDATE, and check that
#   - the data is still there and scoring still works (triggers, history,
#     alerts, verify), with what the new version adds;
#   - the upgraded extension is the same, object for object and definition
#     for definition, as a fresh install of the new version.
# Every previous version with an upgrade script in sql/ is tested.
#
# Runs against the system cluster like the other suites (PGHOST/PGUSER);
# as root, psql runs as the postgres OS user.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

run_psql() {
    local db=$1; shift
    if [ "$(id -u)" -eq 0 ] && [ "${PGUSER:-postgres}" = postgres ]; then
        runuser -u postgres -- env PGHOST="${PGHOST:-/var/run/postgresql}" psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
    else
        psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
    fi
}

current=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -1)
fail=0

# The previous versions' install scripts are test fixtures (kept here, as
# released); PostgreSQL needs them in its extension directory to install an
# old version. Put them there for the test, and take them away after.
extdir="$("${PG_CONFIG:-pg_config}" --sharedir)/extension"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
installed=()
for old in "$here"/credit_scoring--*.sql; do
    target="$extdir/$(basename "$old")"
    if [ ! -e "$target" ]; then
        as_root cp "$old" "$target"
        installed+=("$target")
    fi
done
cleanup() { for f in "${installed[@]}"; do as_root rm -f "$f"; done; }
trap cleanup EXIT

# What an extension consists of, in comparable form: every member object
# with its definition.
catalog_sql=$(cat <<'SQL'
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
       CASE d.classid
         WHEN 'pg_proc'::regclass THEN
           (SELECT CASE WHEN p.prokind = 'a'
                        THEN 'aggregate ' || p.oid::regprocedure || ' sfunc ' || a.aggtransfn::regproc
                             || ' combine ' || a.aggcombinefn::regproc || ' init ' || coalesce(a.agginitval, '')
                        ELSE pg_get_functiondef(p.oid) END
            FROM pg_proc p LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid WHERE p.oid = d.objid)
         WHEN 'pg_class'::regclass THEN
           coalesce(pg_get_viewdef(d.objid),
                    (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum)
                     FROM pg_attribute a WHERE a.attrelid = d.objid AND a.attnum > 0 AND NOT a.attisdropped))
         WHEN 'pg_type'::regclass THEN format_type(d.objid, NULL)
         ELSE '' END AS definition,
       obj_description(d.objid, d.classid::regclass::text) AS comment
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'credit_scoring')
  AND d.deptype = 'e'
ORDER BY 1;
SELECT evtname, evtevent, evtfoid::regproc::text, evtenabled, evttags FROM pg_event_trigger ORDER BY 1;
SELECT indexrelid::regclass::text AS i, pg_get_indexdef(indexrelid) FROM pg_index
WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'credit'::regnamespace) ORDER BY i;
SELECT tgname, tgrelid::regclass::text AS r, pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'credit'::regnamespace) AND NOT tgisinternal ORDER BY 1, 2;
SELECT p.oid::regprocedure::text AS f, p.proacl FROM pg_proc p WHERE p.pronamespace = 'credit'::regnamespace ORDER BY f;
SELECT c.oid::regclass::text AS r, c.relacl FROM pg_class c WHERE c.relnamespace = 'credit'::regnamespace ORDER BY r;
SELECT c.oid::regclass::text AS r, a.attname, col_description(c.oid, a.attnum)
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'credit'::regnamespace ORDER BY r, 2;
SQL
)

for script in "$repo"/sql/credit_scoring--*--"$current".sql; do
    [ -e "$script" ] || { echo "upgrade: no upgrade script to $current in sql/"; exit 1; }
    from=$(basename "$script" | sed 's/credit_scoring--\(.*\)--.*/\1/')
    echo "==> upgrade $from -> $current"
    old_db=credit_upgrade_from_${from//./_}
    new_db=credit_upgrade_fresh
    for db in "$old_db" "$new_db"; do
        run_psql postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    done

    # The previous version, with data in it.
    run_psql "$old_db" -c "CREATE EXTENSION credit_scoring VERSION '$from'"
    run_psql "$old_db" -v customers=300 < "$repo/demo/portfolio.sql"
    run_psql "$old_db" <<'SQL'
SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers');
UPDATE customers SET monthly_income = monthly_income * 0.5 WHERE id % 5 = 0;
INSERT INTO credit.scorecards (name, definition)
SELECT 'custom', jsonb_set(definition, '{decision,decline_dsr_above}', '0.55') FROM credit.scorecards WHERE name = 'reference';
-- A partitioned scored table, partitioned by a column that is no input.
CREATE TABLE apps_by_status (id int, status text, monthly_income numeric, assets_value numeric,
                             loan_amount numeric, tenor_months int) PARTITION BY LIST (status);
CREATE TABLE apps_open PARTITION OF apps_by_status FOR VALUES IN ('open');
CREATE TABLE apps_closed PARTITION OF apps_by_status FOR VALUES IN ('closed');
CREATE TABLE apps_archived PARTITION OF apps_by_status FOR VALUES IN ('archived');
SELECT credit.enable_scoring('apps_by_status', key => 'id');
-- (a DBA stopped scoring the archive)
ALTER TABLE apps_archived DISABLE TRIGGER credit_scoring_score;
INSERT INTO apps_by_status VALUES (1, 'open', 20000000, 0, 1000000, 12), (2, 'open', 20000000, 0, 1000000, 12);
SQL
    before=$(run_psql "$old_db" -At -c "SELECT (SELECT count(*) FROM credit.score_history) || ' ' || (SELECT count(*) FROM credit.score_alerts) || ' ' || (SELECT count(*) FROM credit.scorecards)")

    run_psql "$old_db" -c "ALTER EXTENSION credit_scoring UPDATE"
    version=$(run_psql "$old_db" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'credit_scoring'")
    after=$(run_psql "$old_db" -At -c "SELECT (SELECT count(*) FROM credit.score_history) || ' ' || (SELECT count(*) FROM credit.score_alerts) || ' ' || (SELECT count(*) FROM credit.scorecards)")
    echo "    version after UPDATE: $version; history/alerts/scorecards before: $before, after: $after"
    [ "$version" = "$current" ] || { echo "FAIL: version is $version, not $current"; fail=1; }
    [ "$before" = "$after" ] || { echo "FAIL: data changed by the upgrade"; fail=1; }

    # Scoring still works after the upgrade.
    checks=$(run_psql "$old_db" -At <<'SQL'
UPDATE customers SET monthly_income = monthly_income * 0.5 WHERE id % 7 = 0;
INSERT INTO loans (id, customer_id, principal_amount, tenor_months)
SELECT max(id) + 1, 1, 1000000, 12 FROM loans;
SELECT 'verify_empty=' || (SELECT count(*) = 0 FROM credit.verify('loans'));
SELECT 'new_loan_scored=' || (SELECT credit_score IS NOT NULL AND decision IS NOT NULL FROM loans ORDER BY id DESC LIMIT 1);
SELECT 'history_grew=' || (SELECT count(*) > 0 FROM credit.score_history WHERE scored_at > now() - interval '1 minute');
SELECT 'views_answer=' || ((SELECT count(*) > 0 FROM credit.current_scores) AND (SELECT count(*) >= 0 FROM credit.early_warnings));
SELECT 'customers_triggers=' || ((SELECT array_agg(tgname::text ORDER BY tgname::text COLLATE "C") FROM pg_trigger
                                   WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal)
                                  = ARRAY[credit.rescore_trigger_name('public.loans', 'delete'),
                                          credit.rescore_trigger_name('public.loans', 'insert'),
                                          credit.rescore_trigger_name('public.loans')]::text[]);
INSERT INTO customers (id, monthly_income, assets_value) SELECT max(id) + 1, 9000000, 0 FROM customers;
INSERT INTO loans (id, customer_id, principal_amount, tenor_months)
SELECT max(l.id) + 1, (SELECT max(id) FROM customers), 1000000, 12 FROM loans l;
DELETE FROM loans WHERE customer_id = (SELECT max(id) FROM customers);
SELECT 'verify_still_empty=' || (SELECT count(*) = 0 FROM credit.verify('loans'));
-- The partitioned table's row trigger fires BEFORE DELETE now, on the
-- partitions too: a move alone keeps the row's scoring.
SELECT 'partition_triggers_delete=' || (SELECT count(*) = 4 AND bool_and(tgtype & 8 <> 0 AND tgnargs = 10)
                                        FROM pg_trigger
                                        WHERE tgname = 'credit_scoring_score'
                                          AND tgrelid IN ('apps_by_status'::regclass, 'apps_open'::regclass,
                                                          'apps_closed'::regclass, 'apps_archived'::regclass));
SELECT 'partition_states_kept=' || ((SELECT array_agg(tgrelid::regclass::text || ':' || tgenabled::text ORDER BY tgrelid::regclass::text)
                                    FROM pg_trigger WHERE tgname = 'credit_scoring_score'
                                      AND tgrelid IN ('apps_by_status'::regclass, 'apps_open'::regclass,
                                                      'apps_closed'::regclass, 'apps_archived'::regclass))
                                   = '{apps_archived:D,apps_by_status:O,apps_closed:O,apps_open:O}');
CREATE TEMP TABLE apps_before AS SELECT id, scored_at FROM apps_by_status;
UPDATE apps_by_status SET status = 'closed';
UPDATE apps_by_status SET loan_amount = 2000000 WHERE id = 2;
SELECT 'move_keeps_scoring=' || (SELECT scored_at = (SELECT scored_at FROM apps_before WHERE id = 1)
                                 FROM apps_by_status WHERE id = 1);
SELECT 'input_change_rescored=' || (SELECT scored_at > (SELECT scored_at FROM apps_before WHERE id = 2)
                                    FROM apps_by_status WHERE id = 2);
SELECT 'verify_partitioned_empty=' || (SELECT count(*) = 0 FROM credit.verify('apps_by_status'));
SQL
)
    echo "$checks" | sed 's/^/    /'
    if echo "$checks" | grep -q "=f"; then echo "FAIL: scoring after the upgrade"; fail=1; fi

    # The upgraded extension equals a fresh install, object for object.
    run_psql "$new_db" -c "CREATE EXTENSION credit_scoring"
    upgraded=$(mktemp) fresh=$(mktemp)
    run_psql "$old_db" -At -c "$catalog_sql" > "$upgraded"
    run_psql "$new_db" -At -c "$catalog_sql" > "$fresh"
    lines=$(wc -l < "$fresh")
    if [ "$lines" -lt 100 ]; then
        echo "FAIL: the catalog listing has only $lines lines"; fail=1
    elif diff "$upgraded" "$fresh" > /tmp/credit_upgrade.diff; then
        echo "    upgraded catalog = fresh $current catalog ($lines lines compared)"
    else
        echo "FAIL: the upgraded extension differs from a fresh install of $current:"
        head -40 /tmp/credit_upgrade.diff
        fail=1
    fi
    for db in "$old_db" "$new_db"; do run_psql postgres -c "DROP DATABASE $db"; done
done

[ "$fail" = 0 ] && echo "upgrade: all checks passed" || { echo "upgrade: FAILED"; exit 1; }
