#!/usr/bin/env python3
"""The BI views through psycopg2 (what Superset and most Python BI stacks use).

    PGHOST=127.0.0.1 PGPORT=5432 PGDATABASE=... PGUSER=credit_bi_test PGPASSWORD=... \
        python3 tests/clients/psycopg_views.py

Connects with the libpq environment (a read-only role over TCP with a
password) and checks, failing with exit status 1:
  - each of the five views is listed in information_schema.views and has a
    COMMENT; every column has a plain scalar type (no arrays, composites,
    domains, json/jsonb: type category B, D, N or S) and a COMMENT;
  - SELECT * on each view works, the result's type OIDs agree, and every value
    arrives as a plain Python value (str, int, Decimal, date, datetime), never
    a list, dict or tuple;
  - typical dashboard queries work with bound parameters;
  - the role cannot read credit.score_history, credit.score_alerts or the
    application tables, and cannot acknowledge alerts (SQLSTATE 42501).
Run by tests/clients/run.sh, which creates the role and the data.
"""
import datetime
import decimal
import sys

import psycopg2
import psycopg2.errors

VIEWS = ["current_scores", "portfolio_summary", "segment_migration", "decision_summary", "open_alerts"]
PLAIN_VALUES = (str, int, bool, decimal.Decimal, datetime.date, datetime.datetime, float)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def main():
    conn = psycopg2.connect(application_name="credit_scoring psycopg_views")
    conn.set_session(readonly=True, autocommit=True)
    cur = conn.cursor()
    cur.execute("SELECT current_user, version()")
    user, version = cur.fetchone()
    print(f"psycopg2 {psycopg2.__version__}; server: {version.split(',')[0]}; user: {user}")

    for view in VIEWS:
        cur.execute(
            "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN information_schema.views v ON v.table_schema = 'credit' AND v.table_name = c.relname "
            "WHERE c.oid = to_regclass(%s)",
            (f"credit.{view}",),
        )
        row = cur.fetchone()
        check(row is not None, f"information_schema.views lists credit.{view}")
        check(bool(row and row[0]), f"credit.{view} has a COMMENT")

        cur.execute(
            "SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod), t.typtype, t.typcategory, "
            "       t.typname, col_description(a.attrelid, a.attnum) "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            (f"credit.{view}",),
        )
        columns = cur.fetchall()
        print(f"\ncredit.{view}")
        for name, _oid, type_name, typtype, category, typname, comment in columns:
            print(f"  {name:20} {type_name:26} {comment or '(no COMMENT)'}")
            check(
                typtype == "b" and category in ("B", "D", "N", "S") and typname not in ("json", "jsonb"),
                f"credit.{view}.{name} has a plain scalar type (got {type_name}, category {category})",
            )
            check(bool(comment), f"credit.{view}.{name} has a COMMENT")
        check(len(columns) > 0, f"the role sees the columns of credit.{view}")

        cur.execute(f"SELECT * FROM credit.{view}")
        check(
            [d.type_code for d in cur.description] == [c[1] for c in columns],
            f"SELECT * FROM credit.{view} returns the catalog's column types",
        )
        rows = cur.fetchall()
        for r in rows:
            for d, value in zip(cur.description, r):
                if value is not None and not isinstance(value, PLAIN_VALUES):
                    check(False, f"credit.{view}.{d.name} arrives as a plain value (got {type(value).__name__})")
        print(f"  {len(rows)} rows")
        check(len(rows) > 0, f"credit.{view} has rows (run.sh loads a portfolio)")

    cur.execute(
        "SELECT table_name FROM credit.portfolio_summary GROUP BY table_name "
        "ORDER BY sum(loans) DESC, table_name LIMIT 1"
    )
    (table,) = cur.fetchone()
    questions = [
        ("riskiest loans", "SELECT row_key, credit_score, segment, reasons FROM credit.current_scores "
                           "WHERE table_name = %s ORDER BY credit_score, row_key LIMIT 50"),
        ("exposure by segment", "SELECT segment, loans, exposure, expected_loss, share_of_portfolio "
                                "FROM credit.portfolio_summary WHERE table_name = %s ORDER BY segment"),
        ("newest alerts", "SELECT id, kind, row_key, score_drop, reason, age_hours FROM credit.open_alerts "
                          "WHERE table_name = %s ORDER BY created_at DESC, id DESC LIMIT 50"),
        ("decisions per day", "SELECT day, approved, reviewed, declined, undecided, automation_rate "
                              "FROM credit.decision_summary WHERE table_name = %s ORDER BY day"),
        ("migration", "SELECT month, from_segment, to_segment, loans FROM credit.segment_migration "
                      "WHERE table_name = %s ORDER BY month, loans DESC"),
    ]
    print()
    for name, sql in questions:
        cur.execute(sql, (table,))
        rows = cur.fetchall()
        print(f"{name:20} {len(rows):4} rows for {table}")
        check(len(rows) > 0, f"dashboard question '{name}' has rows")

    print()
    for sql in [
        "SELECT count(*) FROM credit.score_history",
        "SELECT count(*) FROM credit.score_alerts",
        "SELECT count(*) FROM credit.scored_tables",
        "SELECT count(*) FROM public.loans",
        "SELECT count(*) FROM public.customers",
        "SELECT count(*) FROM public.applications",
        "SELECT credit.acknowledge_alert(1, 'from the BI tool')",
    ]:
        state = None
        try:
            cur.execute(sql)
        except psycopg2.Error as e:
            state = e.pgcode
        print(f"refused ({state}): {sql}")
        check(state == "42501", f"the BI role is refused (42501) for: {sql} (got {state})")

    conn.close()
    print()
    if failures:
        print(f"psycopg_views: {len(failures)} check(s) failed")
        return 1
    print("psycopg_views: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
