"""The dashboard's test (run by test.sh with the Superset virtualenv's python).

1. Every chart of the dashboard answers GET /api/v1/chart/{id}/data/ with
   rows, and the rows equal what the chart's `expected` SQL gives in psql.
2. Superset queries as the read-only role, which cannot read the
   application's tables nor the extension's tables behind the views.
3. Headless Chromium (Selenium + Debian's chromedriver) opens the dashboard
   logged in, waits until every chart has drawn, checks that nothing is
   still loading or failed, and saves a screenshot.

Environment: SUPERSET_URL, SUPERSET_ADMIN_PASSWORD, CREDIT_DB, CREDIT_BI_ROLE,
CREDIT_BI_PASSWORD, CREDIT_PG_PORT, SCREENSHOT (path of the PNG).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard  # noqa: E402

ENV = os.environ
URL = ENV["SUPERSET_URL"].rstrip("/")
DB = ENV["CREDIT_DB"]
failures: list[str] = []
passed = 0


def check(ok: bool, what: str, detail: str = "") -> None:
    global passed
    if ok:
        passed += 1
        print(f"  ok    {what}")
    else:
        failures.append(what)
        print(f"  FAIL  {what}" + (f"\n        {detail}" if detail else ""))


def as_postgres() -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    import pwd

    if pwd.getpwuid(os.geteuid()).pw_name == "postgres":
        return []
    return ["sudo", "-u", "postgres"]


def psql_rows(sql: str) -> list[dict[str, str]]:
    """Rows of a query run by the cluster's superuser in psql, as text."""
    out = subprocess.run(
        as_postgres() + ["psql", "-X", "-q", "-h", "/var/run/postgresql", "-p", ENV.get("CREDIT_PG_PORT", "5432"),
                         "-d", DB, "-v", "ON_ERROR_STOP=1", "--csv", "-c", sql],
        check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def normal(value, temporal: bool):
    """A value from either side, made comparable: numbers as floats, days as ISO text."""
    if value is None or value == "":
        return None
    if temporal:
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc).date().isoformat()
        return str(value)[:10]
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return str(value)


def same(a, b, tolerance: float) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=max(tolerance, 1e-9) + 1e-12)
    return a == b


def compare(chart: dashboard.Chart, got: list[dict], want: list[dict]) -> tuple[bool, str]:
    if not want:
        return False, "the view gives no rows for this chart: is the demo loaded?"
    columns = list(want[0].keys())
    if got and sorted(got[0].keys()) != sorted(columns):
        return False, f"columns {sorted(got[0].keys())} != {sorted(columns)}"

    def key(row):
        return tuple((c, normal(row.get(c), c in chart.temporal)) for c in columns)

    got_n = sorted((key(r) for r in got), key=repr)
    want_n = sorted((key(r) for r in want), key=repr)
    if len(got_n) != len(want_n):
        return False, f"{len(got_n)} rows through Superset, {len(want_n)} in psql"
    # Rows match pairwise after sorting; a drifting column (age_hours) may
    # reorder ties, so match each Superset row to some unused psql row.
    unused = list(want_n)
    for row in got_n:
        for i, cand in enumerate(unused):
            if all(same(a[1], b[1], chart.tolerance.get(a[0], 0.0)) for a, b in zip(row, cand)):
                del unused[i]
                break
        else:
            return False, f"row {dict(row)} not in psql's result (e.g. {dict(unused[0])})"
    return True, ""


def check_chart_data(api: dashboard.Superset) -> None:
    print("chart data through Superset's API = the views in psql")
    on_dashboard = {c["slice_name"]: c["id"]
                    for c in api.call("GET", f"/api/v1/dashboard/{dashboard.DASHBOARD_SLUG}/charts")["result"]}
    defined = dashboard.charts()
    check(sorted(on_dashboard) == sorted(c.name for c in defined),
          f"the dashboard has the {len(defined)} defined charts", f"found {sorted(on_dashboard)}")
    for chart in defined:
        if chart.name not in on_dashboard:
            continue
        t0 = time.monotonic()
        payload = api.call("GET", f"/api/v1/chart/{on_dashboard[chart.name]}/data/", params={"force": "true"})
        results = payload["result"]
        took = time.monotonic() - t0
        if len(results) != len(chart.expected):
            check(False, chart.name, f"{len(results)} results for {len(chart.expected)} queries")
            continue
        for i, (result, sql) in enumerate(zip(results, chart.expected)):
            rows = result.get("data") or []
            ok, why = compare(chart, rows, psql_rows(sql))
            label = chart.name + (f" (query {i + 1})" if len(results) > 1 else "")
            check(ok and len(rows) > 0, f"{label}: {len(rows)} rows equal psql's [{took:.2f} s]",
                  why or "no rows")


def check_read_only(api: dashboard.Superset) -> None:
    role = ENV["CREDIT_BI_ROLE"]
    print(f"the read-only role {role}")

    def as_role(sql: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", ENV.get("CREDIT_PG_PORT", "5432"), "-U", role, "-d", DB,
             "-v", "ON_ERROR_STOP=1", "-tAc", sql],
            capture_output=True, text=True, env={**ENV, "PGPASSWORD": ENV["CREDIT_BI_PASSWORD"]})

    for view in dashboard.VIEWS:
        r = as_role(f"SELECT count(*) FROM credit.{view}")
        check(r.returncode == 0, f"can SELECT credit.{view} ({r.stdout.strip() or r.stderr.strip()} rows)")
    # credit.scorecards (the scoring rules, no customer data) is readable by
    # PUBLIC by the extension's design, so it is not in this list.
    for table in ["public.loans", "public.customers", "credit.score_history", "credit.score_alerts",
                  "credit.scored_tables"]:
        exists = psql_rows(f"SELECT to_regclass('{table}') IS NOT NULL AS e")[0]["e"] == "t"
        if not exists:
            continue
        r = as_role(f"SELECT 1 FROM {table} LIMIT 1")
        check(r.returncode != 0 and "permission denied" in r.stderr,
              f"cannot SELECT {table}", r.stdout + r.stderr)
    r = as_role("CREATE TABLE credit_bi_probe(i int)")
    check(r.returncode != 0, "cannot create a table", r.stdout)

    db_id = api.find("database", "database_name", DB)[0]["id"]

    def sqllab(sql: str):
        return api.http.post(f"{URL}/api/v1/sqllab/execute/", timeout=60, json={
            "database_id": db_id, "schema": "credit", "sql": sql, "runAsync": False,
            "client_id": uuid.uuid4().hex[:10], "queryLimit": 10})

    # (SQL Lab refuses current_user and pg_stat_activity: the stored URI says who.)
    uri = api.call("GET", f"/api/v1/database/{db_id}/connection")["result"]["sqlalchemy_uri"]
    check(f"://{role}:" in uri and "@127.0.0.1:" in uri, f"Superset's database connects as {role} to 127.0.0.1",
          uri)
    r = sqllab("SELECT count(*) AS n FROM credit.open_alerts")
    check(r.status_code == 200, "Superset's SQL Lab reads credit.open_alerts", r.text[:200])
    r = sqllab("SELECT * FROM public.loans")
    check(r.status_code >= 400 and "permission denied" in r.text,
          "Superset's SQL Lab cannot read public.loans", f"{r.status_code} {r.text[:200]}")


RENDER_STATE_JS = """
const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')]
    .filter(h => h.querySelector('[data-test="chart-container"]'));
return {
  url: location.href,
  login: !!document.querySelector('form#loginForm, input[name="password"]'),
  charts: holders.length,
  drawn: holders.filter(h =>
      h.querySelector('canvas, table tbody tr, .header-line, .superset-legacy-chart-big-number')).length,
  loading: document.querySelectorAll('.loading, [data-test="loading-indicator"], [aria-label="loading"]').length,
  errors: [...document.querySelectorAll('.dashboard-component-chart-holder [role="alert"],'
      + ' .dashboard-component-chart-holder .alert-danger, .dashboard-component-chart-holder [data-test="error-message"]')]
      .map(e => e.innerText.slice(0, 200)),
  height: document.documentElement.scrollHeight,
  numbers: [...document.querySelectorAll('.header-line')].map(e => e.innerText.trim()),
};
"""


def session_cookie() -> str:
    """Log in through the /login/ form, as a person would; return the session cookie."""
    import requests

    http = requests.Session()
    page = http.get(f"{URL}/login/", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    r = http.post(f"{URL}/login/", timeout=30, allow_redirects=False, data={
        "username": "admin", "password": ENV["SUPERSET_ADMIN_PASSWORD"], "csrf_token": token.group(1) if token else ""})
    cookie = http.cookies.get("session")
    if r.status_code not in (200, 302) or not cookie:
        raise RuntimeError(f"form login failed: {r.status_code}")
    return cookie


def screenshot(path: str, expected_charts: int) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    print("the dashboard in headless Chromium")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try to download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--hide-scrollbars", "--window-size=1600,1200", "--force-device-scale-factor=1"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        t0 = time.monotonic()
        driver.get(f"{URL}/health")
        driver.add_cookie({"name": "session", "value": session_cookie(), "path": "/"})
        driver.get(f"{URL}/superset/dashboard/{dashboard.DASHBOARD_SLUG}/?standalone=1&show_filters=0")
        state, stable, resized = {}, 0, False
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = driver.execute_script(RENDER_STATE_JS)
            if state["login"]:
                break
            done = (state["charts"] == expected_charts and state["drawn"] == expected_charts
                    and state["loading"] == 0)
            if done and not resized:
                # Make the window as tall as the dashboard, then wait again.
                driver.set_window_size(1600, min(state["height"] + 40, 6000))
                resized, stable = True, 0
            stable = stable + 1 if done else 0
            if stable >= 3:  # the same finished state over 1.5 s: animations are over
                break
            time.sleep(0.5)
        took = time.monotonic() - t0
        check(not state.get("login") and "/login" not in state.get("url", ""),
              "logged in: not the login page", state.get("url", ""))
        check(state.get("charts") == expected_charts,
              f"{state.get('charts')} chart containers (of {expected_charts})")
        check(state.get("drawn") == expected_charts,
              f"{state.get('drawn')} charts drawn (canvas, table rows or big number) [{took:.1f} s]")
        check(state.get("loading") == 0, f"no loading spinner left ({state.get('loading')})")
        check(not state.get("errors"), "no chart shows an error", "; ".join(state.get("errors") or []))
        loans = f"{int(psql_rows('SELECT sum(loans) AS n FROM credit.portfolio_summary')[0]['n']):,}"
        check(loans in state.get("numbers", []), f"the page shows the {loans} loans psql counts",
              f"big numbers on the page: {state.get('numbers')}")
        if failures:  # keep the committed screenshot; leave this one for a look
            path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "credit_dashboard_failed.png")
        driver.save_screenshot(path)
        size = os.path.getsize(path)
        check(size > 50_000, f"screenshot {path} ({size // 1024} KiB)")
    finally:
        driver.quit()


def main() -> int:
    t0 = time.monotonic()
    api = dashboard.Superset(URL, "admin", ENV["SUPERSET_ADMIN_PASSWORD"])
    check_chart_data(api)
    t1 = time.monotonic()
    check_read_only(api)
    t2 = time.monotonic()
    if ENV.get("SCREENSHOT"):
        screenshot(ENV["SCREENSHOT"], len(dashboard.charts()))
    t3 = time.monotonic()
    print(f"timings: chart data {t1 - t0:.1f} s, read-only role {t2 - t1:.1f} s, browser {t3 - t2:.1f} s")
    print(f"dashboard: {passed} passed, {len(failures)} failed")
    for f in failures:
        print(f"  failed: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
