"""The credit risk dashboard as code, loaded into Superset over its REST API.

Run by run.sh with the Superset virtualenv's python (it needs `requests` and
`prison`, both Superset dependencies). Idempotent: datasets, charts and the
dashboard are found by name and updated in place.

Every chart reads one of the extension's views and nothing else. Each chart
carries `expected`: the SQL that gives, in psql, the rows its chart-data query
must return; test.sh compares the two.

Environment: SUPERSET_URL, SUPERSET_ADMIN_PASSWORD, CREDIT_DB, CREDIT_BI_ROLE,
CREDIT_BI_PASSWORD, CREDIT_PG_PORT.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "credit"
VIEWS = ["current_scores", "portfolio_summary", "segment_migration", "decision_summary", "open_alerts"]
DASHBOARD_SLUG = "credit-risk"
DASHBOARD_TITLE = "Credit risk"

# ---------------------------------------------------------------------------
# Datasets: one per view. Column descriptions come from the views' column
# COMMENTs, the dataset description from the view's COMMENT. Calculated
# columns and metrics are SQL over the view's own columns.

SCORE_BAND = "(floor(credit_score / 50) * 50)::integer"
AGE_BAND = (
    "CASE WHEN age_hours < 24 THEN '1: under a day' WHEN age_hours < 168 THEN '2: 1 to 7 days'"
    " WHEN age_hours < 720 THEN '3: 7 to 30 days' ELSE '4: over 30 days' END"
)
ALERT_DSR = "(details::jsonb ->> 'dsr')::numeric"
MOVE = "coalesce(from_segment, 'unscored') || ' → ' || coalesce(to_segment, 'unscored')"
AUTOMATED_SHARE = "avg(CASE WHEN decision IN ('approve', 'decline') THEN 1.0 ELSE 0 END)"
DAILY_AUTOMATION = (
    "(sum(approved) + sum(declined))::numeric"
    " / nullif(sum(approved) + sum(reviewed) + sum(declined) + sum(undecided), 0)"
)

# (name, SQL expression, type, description)
CALCULATED_COLUMNS: dict[str, list[tuple[str, str, str, str]]] = {
    "current_scores": [
        ("score_band", SCORE_BAND, "INTEGER", "Credit score rounded down to 50 points (300: 300 to 349)"),
    ],
    "open_alerts": [
        ("age_band", AGE_BAND, "TEXT", "Age of the alert: under a day, 1 to 7 days, 7 to 30 days, over 30 days"),
        ("alert_dsr", ALERT_DSR, "NUMERIC", "DSR that raised a dsr_critical alert (exact, from details)"),
    ],
    "segment_migration": [
        ("move", MOVE, "TEXT", "From segment → to segment"),
    ],
}

# (name, SQL expression, verbose name, d3 format, description)
METRICS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "portfolio_summary": [
        ("loans", "sum(loans)", "Loans", ",d", "Number of loans"),
        ("exposure", "sum(exposure)", "Exposure", "SMART_NUMBER", "Sum of loan amounts"),
        ("expected_loss", "sum(expected_loss)", "Expected loss", "SMART_NUMBER",
         "Sum of default probability x loan amount"),
    ],
    "current_scores": [
        ("loans", "count(*)", "Loans", ",d", "Number of scored rows"),
        ("average_score", "avg(credit_score)", "Average score", ",.1f", "Average credit score"),
        ("automation_rate", AUTOMATED_SHARE, "Automation rate", ".1%",
         "Share of current decisions made without a person (approve or decline)"),
    ],
    "segment_migration": [
        ("moves", "sum(loans)", "Moves", ",d", "Rows that moved between segments"),
    ],
    "decision_summary": [
        ("approved", "sum(approved)", "Approved", ",d", "Applications approved"),
        ("reviewed", "sum(reviewed)", "Reviewed", ",d", "Applications sent to a person for review"),
        ("declined", "sum(declined)", "Declined", ",d", "Applications declined"),
        ("undecided", "sum(undecided)", "Undecided", ",d", "Applications with invalid inputs"),
        ("automation_rate", DAILY_AUTOMATION, "Automation rate", ".1%", "Share approved or declined"),
    ],
    "open_alerts": [
        ("alerts", "count(*)", "Open alerts", ",d", "Unacknowledged alerts"),
    ],
}

ACRONYMS = {"dsr": "DSR", "id": "Id"}


def verbose(column: str) -> str:
    words = [ACRONYMS.get(w, w) for w in column.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------
# Charts. Each builder returns the chart's form data (`params`, what the
# browser renders from) and the query objects of its saved query context
# (what GET /api/v1/chart/{id}/data/ runs): the same columns, metrics,
# filters and order, without the browser-side reshaping.


@dataclass
class Chart:
    name: str
    view: str
    viz: str
    params: dict[str, Any]
    queries: list[dict[str, Any]]
    expected: list[str]  # one SQL per query, in psql, over the view
    width: int
    height: int
    description: str = ""
    temporal: list[str] = field(default_factory=list)  # result columns that are days
    tolerance: dict[str, float] = field(default_factory=dict)  # columns that drift with now()


def adhoc_filter(column: str, op: str, value: Any = None) -> dict[str, Any]:
    f = {"clause": "WHERE", "expressionType": "SIMPLE", "subject": column, "operator": op}
    if value is not None:
        f["comparator"] = value
    return f


def query_filter(column: str, op: str, value: Any = None) -> dict[str, Any]:
    f: dict[str, Any] = {"col": column, "op": op}
    if value is not None:
        f["val"] = value
    return f


def query(columns, metrics, filters=(), orderby=(), row_limit=10000) -> dict[str, Any]:
    return {
        "columns": list(columns),
        "metrics": list(metrics),
        "filters": list(filters),
        "orderby": [list(o) for o in orderby],
        "row_limit": row_limit,
        "extras": {"having": "", "where": ""},
        "time_range": "No filter",
        "annotation_layers": [],
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
    }


def axis_column(column: str, grain: str | None) -> Any:
    if grain is None:
        return column
    return {"timeGrain": grain, "columnType": "BASE_AXIS", "sqlExpression": column, "label": column,
            "expressionType": "SQL"}


def big_number(name, view, metric, subheader, expected, fmt, width=2):
    params = {"metric": metric, "subheader": subheader, "header_font_size": 0.5,
              "subheader_font_size": 0.2, "y_axis_format": fmt, "time_range": "No filter",
              "adhoc_filters": []}
    return Chart(name, view, "big_number_total", params, [query([], [metric], row_limit=1)], [expected],
                 width, 16, subheader)


def bars(name, view, x, metrics, expected, groupby=(), grain=None, stacked=True, width=6, height=50,
         filters=(), description="", y_format="SMART_NUMBER", temporal=()):
    params = {
        "x_axis": x, "metrics": list(metrics), "groupby": list(groupby),
        "adhoc_filters": [adhoc_filter(*f) for f in filters], "time_range": "No filter",
        "row_limit": 10000, "order_desc": True, "stack": "Stack" if stacked else None,
        "orientation": "vertical", "show_legend": True, "legendType": "scroll", "legendOrientation": "top",
        "rich_tooltip": True, "y_axis_format": y_format, "x_axis_sort_asc": True,
        "truncateXAxis": True, "xAxisLabelRotation": 0, "color_scheme": "supersetColors",
    }
    if grain:
        params["time_grain_sqla"] = grain
        params["x_axis_time_format"] = "%Y-%m-%d" if grain == "P1D" else "%Y-%m"
    else:
        params["xAxisForceCategorical"] = True
        params["x_axis_sort"] = x
    q = query([axis_column(x, grain), *groupby], metrics, [query_filter(*f) for f in filters],
              orderby=[(metrics[0], False)])
    return Chart(name, view, "echarts_timeseries_bar", params, [q], [expected], width, height, description,
                 temporal=list(temporal))


def raw_table(name, view, columns, orderby, expected, filters=(), width=12, height=50, description="",
              tolerance=None, page_length=0, formats=None):
    params = {
        "query_mode": "raw", "all_columns": list(columns),
        "order_by_cols": [json.dumps([c, asc]) for c, asc in orderby],
        "adhoc_filters": [adhoc_filter(*f) for f in filters], "time_range": "No filter",
        "row_limit": 10000, "server_pagination": False, "page_length": page_length,
        "include_search": page_length > 0, "show_cell_bars": True, "table_timestamp_format": "smart_date",
        "column_config": {c: {"d3NumberFormat": f} for c, f in (formats or {}).items()},
    }
    q = query(columns, [], [query_filter(*f) for f in filters], orderby=orderby)
    return Chart(name, view, "table", params, [q], [expected], width, height, description,
                 tolerance=tolerance or {})


def charts() -> list[Chart]:
    cs, ps = "credit.current_scores", "credit.portfolio_summary"
    return [
        # Row 1: the portfolio in six numbers.
        big_number("Loans", "portfolio_summary", "loans", "loans in scored tables",
                   f"SELECT sum(loans) AS loans FROM {ps}", ",d"),
        big_number("Exposure", "portfolio_summary", "exposure", "sum of loan amounts",
                   f"SELECT sum(exposure) AS exposure FROM {ps}", "SMART_NUMBER"),
        big_number("Expected loss", "portfolio_summary", "expected_loss", "Σ default probability × amount",
                   f"SELECT sum(expected_loss) AS expected_loss FROM {ps}", "SMART_NUMBER"),
        big_number("Average score", "current_scores", "average_score", "credit score, 300 to 850",
                   f"SELECT avg(credit_score) AS average_score FROM {cs}", ",.1f"),
        big_number("Automation rate", "current_scores", "automation_rate", "approved or declined at once",
                   f"SELECT {AUTOMATED_SHARE} AS automation_rate FROM {cs}", ".1%"),
        big_number("Open alerts", "open_alerts", "alerts", "not yet acknowledged",
                   "SELECT count(*) AS alerts FROM credit.open_alerts", ",d"),
        # Row 2: the portfolio by segment.
        raw_table("Portfolio by segment", "portfolio_summary",
                  ["table_name", "segment", "loans", "exposure", "expected_loss", "average_score",
                   "share_of_portfolio", "automation_rate"],
                  [("table_name", True), ("average_score", False)],
                  f"SELECT table_name, segment, loans, exposure, expected_loss, average_score,"
                  f" share_of_portfolio, automation_rate FROM {ps}",
                  width=7, height=40,
                  formats={"loans": ",d", "exposure": ",.0f", "expected_loss": ",.0f", "average_score": ",.1f",
                           "share_of_portfolio": ".1%", "automation_rate": ".1%"},
                  description="credit.portfolio_summary: loans, exposure and expected loss per table and segment"),
        bars("Exposure and expected loss by segment", "portfolio_summary", "segment",
             ["exposure", "expected_loss"],
             f"SELECT segment, sum(exposure) AS exposure, sum(expected_loss) AS expected_loss"
             f" FROM {ps} GROUP BY segment",
             stacked=False, width=5, height=40),
        # Row 3: where the scores are, and how rows move between segments.
        bars("Score distribution", "current_scores", "score_band", ["loans"],
             f"SELECT {SCORE_BAND} AS score_band, segment, count(*) AS loans FROM {cs}"
             f" WHERE credit_score IS NOT NULL GROUP BY 1, 2",
             groupby=["segment"], filters=[("credit_score", "IS NOT NULL")],
             description="Scored rows per 50-point score band, by segment"),
        bars("Segment migration by month", "segment_migration", "month", ["moves"],
             f"SELECT month, {MOVE} AS move, sum(loans) AS moves FROM credit.segment_migration GROUP BY 1, 2",
             groupby=["move"], grain="P1M", temporal=["month"],
             description="Rows that moved between segments, per month of the move"),
        # Row 4: alerts, and decisions per day.
        bars("Open alerts by kind and age", "open_alerts", "kind", ["alerts"],
             f"SELECT kind, {AGE_BAND} AS age_band, count(*) AS alerts FROM credit.open_alerts GROUP BY 1, 2",
             groupby=["age_band"], description="Unacknowledged alerts by kind and age"),
        decisions_per_day(),
        # Row 5: the early-warning list.
        raw_table("Early warning: DSR above the alert ratio", "open_alerts",
                  ["table_name", "row_key", "alert_dsr", "new_score", "new_segment", "age_hours"],
                  [("alert_dsr", False), ("row_key", True)],
                  f"SELECT table_name, row_key, {ALERT_DSR} AS alert_dsr, new_score, new_segment,"
                  f" age_hours FROM credit.open_alerts WHERE kind = 'dsr_critical'",
                  filters=[("kind", "==", "dsr_critical")], height=72, page_length=10,
                  formats={"alert_dsr": ".4f", "age_hours": ",.1f"},
                  description="Open dsr_critical alerts: rows whose installment / income rose above the"
                              " alert ratio (credit_scoring.dsr_alert_ratio or the table's own), highest first",
                  tolerance={"age_hours": 0.1}),
    ]


def decisions_per_day() -> Chart:
    bars_metrics = ["approved", "reviewed", "declined", "undecided"]
    params = {
        "x_axis": "day", "time_grain_sqla": "P1D", "time_range": "No filter",
        "metrics": bars_metrics, "groupby": [], "adhoc_filters": [],
        "metrics_b": ["automation_rate"], "groupby_b": [], "adhoc_filters_b": [],
        "seriesType": "bar", "seriesTypeB": "line", "stack": True, "stackB": False,
        "yAxisIndex": 0, "yAxisIndexB": 1, "markerEnabledB": True, "markerSizeB": 8,
        "y_axis_format": "SMART_NUMBER", "y_axis_format_secondary": ".0%",
        "y_axis_bounds_secondary": [0, 1],
        "row_limit": 10000, "row_limit_b": 10000, "order_desc": True, "order_desc_b": True,
        "show_legend": True, "legendType": "scroll", "legendOrientation": "top", "rich_tooltip": True,
        "x_axis_time_format": "%Y-%m-%d", "color_scheme": "supersetColors",
        "opacity": 0.2, "opacityB": 0.2, "truncate_metric": True, "truncate_metric_b": True,
    }
    day = axis_column("day", "P1D")
    queries = [query([day], bars_metrics, orderby=[("approved", False)]),
               query([day], ["automation_rate"], orderby=[("automation_rate", False)])]
    expected = [
        "SELECT day, sum(approved) AS approved, sum(reviewed) AS reviewed, sum(declined) AS declined,"
        " sum(undecided) AS undecided FROM credit.decision_summary GROUP BY day",
        f"SELECT day, {DAILY_AUTOMATION} AS automation_rate FROM credit.decision_summary GROUP BY day",
    ]
    return Chart("Decisions and automation rate per day", "decision_summary", "mixed_timeseries", params,
                 queries, expected, 6, 50,
                 "credit.decision_summary: approve / review / decline per day (bars), share decided"
                 " without a person (line, right axis)", temporal=["day"])


# Colours the risk team reads at a glance; keys are series labels.
LABEL_COLORS = {
    "low": "#5AC189", "medium": "#FCC700", "high": "#E04355", "unscored": "#999999",
    "approved": "#5AC189", "Approved": "#5AC189", "reviewed": "#FCC700", "Reviewed": "#FCC700",
    "declined": "#E04355", "Declined": "#E04355", "undecided": "#999999", "Undecided": "#999999",
    "automation_rate": "#1FA8C9", "Automation rate": "#1FA8C9",
    "exposure": "#1FA8C9", "Exposure": "#1FA8C9", "expected_loss": "#E04355", "Expected loss": "#E04355",
    "1: under a day": "#FCC700", "2: 1 to 7 days": "#FF7F44", "3: 7 to 30 days": "#E04355",
    "4: over 30 days": "#A868B7",
}

# Rows of the dashboard: chart names, left to right.
LAYOUT = [
    ["Loans", "Exposure", "Expected loss", "Average score", "Automation rate", "Open alerts"],
    ["Portfolio by segment", "Exposure and expected loss by segment"],
    ["Score distribution", "Segment migration by month"],
    ["Open alerts by kind and age", "Decisions and automation rate per day"],
    ["Early warning: DSR above the alert ratio"],
]

INTRO = (
    "### Credit risk\n"
    "The extension's views on this database, read through a read-only role: "
    "`credit.portfolio_summary`, `credit.current_scores`, `credit.segment_migration`, "
    "`credit.decision_summary`, `credit.open_alerts`. Acknowledge an alert with "
    "`SELECT credit.acknowledge_alert(id, note)`."
)


# ---------------------------------------------------------------------------
# The REST API.


class ApiError(RuntimeError):
    pass


class Superset:
    def __init__(self, url: str, username: str, password: str):
        import requests

        self.url = url.rstrip("/")
        self.http = requests.Session()
        r = self.http.post(f"{self.url}/api/v1/security/login",
                           json={"username": username, "password": password, "provider": "db",
                                 "refresh": False}, timeout=60)
        if r.status_code != 200:
            raise ApiError(f"login as {username} failed: {r.status_code} {r.text[:300]}")
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        csrf = self.call("GET", "/api/v1/security/csrf_token/")["result"]
        self.http.headers.update({"X-CSRFToken": csrf, "Referer": self.url})

    def call(self, method: str, path: str, **kwargs) -> Any:
        r = self.http.request(method, self.url + path, timeout=120, **kwargs)
        if r.status_code >= 400:
            raise ApiError(f"{method} {path}: {r.status_code} {r.text[:1000]}")
        return r.json() if r.content else None

    def find(self, resource: str, column: str, value: str) -> list[dict[str, Any]]:
        import prison

        q = prison.dumps({"filters": [{"col": column, "opr": "eq", "value": value}], "page_size": 100})
        return self.call("GET", f"/api/v1/{resource}/", params={"q": q})["result"]


def upsert_database(api: Superset, name: str, uri: str) -> int:
    body = {"database_name": name, "sqlalchemy_uri": uri, "expose_in_sqllab": True, "allow_dml": False,
            "allow_run_async": False, "allow_ctas": False, "allow_cvas": False, "allow_file_upload": False}
    api.call("POST", "/api/v1/database/test_connection/", json={"database_name": name, "sqlalchemy_uri": uri})
    found = api.find("database", "database_name", name)
    if found:
        db_id = found[0]["id"]
        api.call("PUT", f"/api/v1/database/{db_id}", json=body)
        return db_id
    return api.call("POST", "/api/v1/database/", json=body)["id"]


COLUMN_FIELDS = ("id", "column_name", "type", "verbose_name", "description", "expression", "filterable",
                 "groupby", "is_active", "is_dttm", "python_date_format", "extra", "advanced_data_type")


def upsert_dataset(api: Superset, db_id: int, view: str) -> int:
    found = [d for d in api.find("dataset", "table_name", view)
             if d.get("schema") == SCHEMA and (d.get("database") or {}).get("id") == db_id]
    if found:
        ds_id = found[0]["id"]
        api.call("PUT", f"/api/v1/dataset/{ds_id}/refresh")  # pick up columns the view gained
    else:
        ds_id = api.call("POST", "/api/v1/dataset/",
                         json={"database": db_id, "schema": SCHEMA, "table_name": view})["id"]
    meta = api.call("GET", f"/api/v1/database/{db_id}/table_metadata/",
                    params={"name": view, "schema": SCHEMA})
    comments = {c["name"]: c.get("comment") for c in meta.get("columns", [])}
    dataset = api.call("GET", f"/api/v1/dataset/{ds_id}")["result"]

    calculated = {c[0]: c for c in CALCULATED_COLUMNS.get(view, [])}
    columns = []
    for col in dataset["columns"]:
        name = col["column_name"]
        if col.get("expression") and name not in calculated:
            continue  # a calculated column no longer defined here
        c = {k: col[k] for k in COLUMN_FIELDS if k in col and col[k] is not None}
        if name in calculated:
            _, expr, typ, desc = calculated.pop(name)
            c.update(expression=expr, type=typ, description=desc)
        elif comments.get(name):
            c["description"] = comments[name]
        c["verbose_name"] = verbose(name)
        columns.append(c)
    for name, expr, typ, desc in calculated.values():
        columns.append({"column_name": name, "expression": expr, "type": typ, "description": desc,
                        "verbose_name": verbose(name), "filterable": True, "groupby": True, "is_dttm": False})

    wanted = {m[0]: m for m in METRICS.get(view, [])}
    metrics = []
    for m in dataset["metrics"]:
        if m["metric_name"] not in wanted:
            continue
        name, expr, verbose_name, fmt, desc = wanted.pop(m["metric_name"])
        metrics.append({"id": m["id"], "metric_name": name, "expression": expr, "verbose_name": verbose_name,
                        "d3format": fmt, "description": desc})
    for name, expr, verbose_name, fmt, desc in wanted.values():
        metrics.append({"metric_name": name, "expression": expr, "verbose_name": verbose_name, "d3format": fmt,
                        "description": desc})

    api.call("PUT", f"/api/v1/dataset/{ds_id}",
             json={"description": meta.get("comment") or "", "columns": columns, "metrics": metrics})
    return ds_id


def upsert_dashboard(api: Superset) -> int:
    try:
        return api.call("GET", f"/api/v1/dashboard/{DASHBOARD_SLUG}")["result"]["id"]
    except ApiError as e:
        if " 404 " not in str(e):
            raise
    return api.call("POST", "/api/v1/dashboard/",
                    json={"dashboard_title": DASHBOARD_TITLE, "slug": DASHBOARD_SLUG, "published": True})["id"]


def upsert_chart(api: Superset, chart: Chart, ds_id: int, dash_id: int, existing: dict[str, int]) -> int:
    params = {"datasource": f"{ds_id}__table", "viz_type": chart.viz, **chart.params}
    query_context = {
        "datasource": {"id": ds_id, "type": "table"}, "force": False, "queries": chart.queries,
        "form_data": params, "result_format": "json", "result_type": "full",
    }
    body = {"slice_name": chart.name, "viz_type": chart.viz, "datasource_id": ds_id,
            "datasource_type": "table", "params": json.dumps(params), "query_context": json.dumps(query_context),
            "description": chart.description, "dashboards": [dash_id]}
    if chart.name in existing:
        chart_id = existing[chart.name]
        api.call("PUT", f"/api/v1/chart/{chart_id}", json=body)
        return chart_id
    return api.call("POST", "/api/v1/chart/", json=body)["id"]


def position_json(chart_ids: dict[str, int], by_name: dict[str, Chart]) -> dict[str, Any]:
    pos: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    rows = [["MARKDOWN"]] + LAYOUT
    for r, names in enumerate(rows):
        row_id = f"ROW-{r}"
        pos["GRID_ID"]["children"].append(row_id)
        pos[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                       "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for name in names:
            if name == "MARKDOWN":
                item_id = "MARKDOWN-intro"
                pos[item_id] = {"type": "MARKDOWN", "id": item_id, "children": [],
                                "parents": ["ROOT_ID", "GRID_ID", row_id],
                                "meta": {"width": 12, "height": 14, "code": INTRO}}
            else:
                chart = by_name[name]
                item_id = f"CHART-{chart_ids[name]}"
                pos[item_id] = {"type": "CHART", "id": item_id, "children": [],
                                "parents": ["ROOT_ID", "GRID_ID", row_id],
                                "meta": {"width": chart.width, "height": chart.height,
                                         "chartId": chart_ids[name], "sliceName": name}}
            pos[row_id]["children"].append(item_id)
    return pos


def main() -> int:
    t0 = time.monotonic()
    env = os.environ
    api = Superset(env["SUPERSET_URL"], "admin", env["SUPERSET_ADMIN_PASSWORD"])
    db_name = env["CREDIT_DB"]
    uri = (f"postgresql+psycopg2://{env['CREDIT_BI_ROLE']}:{env['CREDIT_BI_PASSWORD']}"
           f"@127.0.0.1:{env.get('CREDIT_PG_PORT', '5432')}/{db_name}")
    db_id = upsert_database(api, db_name, uri)
    datasets = {view: upsert_dataset(api, db_id, view) for view in VIEWS}
    print(f"database {db_name} (id {db_id}) as {env['CREDIT_BI_ROLE']}; datasets: "
          + ", ".join(f"credit.{v} ({i})" for v, i in datasets.items()))

    dash_id = upsert_dashboard(api)
    all_charts = charts()
    by_name = {c.name: c for c in all_charts}
    assert sorted(by_name) == sorted(n for row in LAYOUT for n in row), "LAYOUT and charts() disagree"
    existing = {c["slice_name"]: c["id"]
                for c in api.call("GET", f"/api/v1/dashboard/{dash_id}/charts")["result"]}
    chart_ids = {c.name: upsert_chart(api, c, datasets[c.view], dash_id, existing) for c in all_charts}
    # Charts left on the dashboard by an earlier definition go.
    for name, old_id in existing.items():
        if name not in chart_ids:
            api.call("DELETE", f"/api/v1/chart/{old_id}")
    metadata = {"color_scheme": "supersetColors", "label_colors": LABEL_COLORS, "refresh_frequency": 0,
                "cross_filters_enabled": False, "native_filter_configuration": [],
                "timed_refresh_immune_slices": [], "expanded_slices": {}}
    api.call("PUT", f"/api/v1/dashboard/{dash_id}",
             json={"dashboard_title": DASHBOARD_TITLE, "slug": DASHBOARD_SLUG, "published": True,
                   "position_json": json.dumps(position_json(chart_ids, by_name)),
                   "json_metadata": json.dumps(metadata)})
    print(f"dashboard {DASHBOARD_SLUG} (id {dash_id}) with {len(chart_ids)} charts"
          f" loaded in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
