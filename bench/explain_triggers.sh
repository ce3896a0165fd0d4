#!/usr/bin/env bash
# bench/explain_triggers.sh — where the time of a scored INSERT / UPDATE goes.
#
#   bench/explain_triggers.sh [insert|update] [scored|plpgsql|unscored]
#
# Runs one statement of the trigger-cost phase (bench/triggers.sql; default:
# update, scored) from the same reset state as bench/run.sh, with
# auto_explain logging the analyzed plan of every statement, nested ones
# included: the statement itself (its row trigger is inside the ModifyTable
# node's time) and, for the scored case, credit.record_scores' set-based
# INSERT, whose CTEs (history, latest, alerts) show their own times.  The
# plans go to stdout; the timed result line is the last line.  Timing
# instrumentation makes the statement slower than in bench/run.sh.
#
# Needs a database prepared by bench/run.sh (its trigger phase loads
# bench/triggers.sql and the source rows).  Same connection variables as
# run.sh (PGDATABASE default credit_bench); only for the database credit_bench
# (it truncates credit.score_history, latest_scores and score_alerts).
set -euo pipefail

op=${1:-update}
tcase=${2:-scored}
[[ $op == insert || $op == update ]] || { echo "explain_triggers: first argument: insert or update" >&2; exit 2; }
[[ $tcase == scored || $tcase == plpgsql || $tcase == unscored ]] || { echo "explain_triggers: second argument: scored, plpgsql or unscored" >&2; exit 2; }
export PGDATABASE=${PGDATABASE:-credit_bench}
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

if [ "$(q -c "SELECT current_database()")" != credit_bench ]; then
    echo "explain_triggers: runs only in the database credit_bench (it truncates credit.score_history and friends)" >&2
    exit 2
fi
if [ "$(q -c "SELECT to_regprocedure('bench.trig_reset(text,text)') IS NOT NULL
                 AND to_regclass('bench.trig_update_src') IS NOT NULL")" != t ] \
   || [ "$(q -c "SELECT count(*) > 0 FROM bench.trig_update_src")" != t ]; then
    echo "explain_triggers: run bench/run.sh first (its trigger phase prepares the tables)" >&2
    exit 2
fi

{
    echo "SET jit = off;"
    echo "SET max_parallel_workers_per_gather = 0;"
    echo "SET client_min_messages = warning;"
    echo "SELECT bench.trig_reset('$tcase', 'base');"
    echo "VACUUM (FREEZE, ANALYZE) bench.loan_applications_$tcase;"
    case $tcase in
        scored)  echo "VACUUM (FREEZE, ANALYZE) credit.score_history; VACUUM (FREEZE, ANALYZE) credit.latest_scores; VACUUM (FREEZE, ANALYZE) credit.score_alerts;" ;;
        plpgsql) echo "VACUUM (FREEZE, ANALYZE) bench.trig_history; VACUUM (FREEZE, ANALYZE) bench.trig_latest; VACUUM (FREEZE, ANALYZE) bench.trig_alerts;" ;;
    esac
    echo "CHECKPOINT;"
    echo "LOAD 'auto_explain';"
    echo "SET auto_explain.log_min_duration = 0;"
    echo "SET auto_explain.log_analyze = on;"
    echo "SET auto_explain.log_buffers = on;"
    echo "SET auto_explain.log_nested_statements = on;"
    echo "SET auto_explain.log_level = notice;"
    echo "SET client_min_messages = notice;"
    echo "SELECT '$op $tcase: ' || round(seconds::numeric, 3) || ' s, ' || result || ' rows' FROM bench.time_dml(bench.trig_statement('$tcase', '$op'));"
    echo "SET auto_explain.log_min_duration = -1;"
    echo "SET client_min_messages = warning;"
    echo "SELECT bench.trig_reset('$tcase', 'empty');"
} | q 2>&1 | sed -e 's/^\(psql:<stdin>:[0-9]*: \)\{0,1\}NOTICE:  //' | grep -v '^$'
