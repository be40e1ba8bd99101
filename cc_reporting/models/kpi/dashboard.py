"""A static, self-contained HTML KPI dashboard for one local day (no server, no network, no external assets).

The page embeds its data as JSON; a small inline script draws one SVG per chart and sets
`<body data-charts-drawn="N">`, so a headless browser can prove the charts drew. Headline figures are static HTML, so
the page still says the essentials without JavaScript. Same data → byte-identical file: nothing about "now" goes in.
"""
from __future__ import annotations

import html
import json
import os
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from cc_reporting.models.kpi import marts_sql
from cc_reporting.models.kpi.erlang import erlang_settings
from cc_reporting.models.kpi.marts import table_exists

TEMPLATE = Path(__file__).with_name("dashboard.html")
TOP_N = 10


def _sums_sql(con, table: str, where: str, group: str | None = None) -> str:
    """Re-aggregate stored numerators and denominators, then divide again (rates are never averaged).

    A KPI table that does not exist yet reads as empty: rendering never writes to the warehouse."""
    keys = f"{group}, " if group else ""
    table = table if table_exists(con, table) else marts_sql.empty_relation(table)
    sums = ", ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in marts_sql.COUNT_COLUMNS)
    grouping = f"GROUP BY {group} ORDER BY {group}" if group else ""
    return f"SELECT *, {marts_sql.rate_select()} FROM (SELECT {keys}{sums} FROM {table} WHERE {where} {grouping})"


def _rows(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _num(v):
    return None if v is None else round(float(v), 6)


def _utc_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
    return start, end


def _interval_charts(con, day: date, tz: str, sla: int, target: float) -> list[dict]:
    """Queue totals per 15-minute interval over every slot of the local day (92, 96 or 100 of them)."""
    start, end = _utc_bounds(day, tz)
    sql = _sums_sql(con, "kpi_interval", "interval_start >= ? AND interval_start < ?", "interval_start")
    found = {r["interval_start"]: r for r in _rows(con, sql, [start, end])}
    zone, slots = ZoneInfo(tz), []
    t = start
    while t < end:
        slots.append(t)
        t += timedelta(minutes=15)
    labels = [s.replace(tzinfo=timezone.utc).astimezone(zone).strftime("%H:%M") for s in slots]

    def series(name, column, zero=False):
        return {"name": name, "values": [_num(found[s][column]) if s in found else (0 if zero else None)
                                         for s in slots]}

    def line(chart_id, title, fmt, *s, **extra):
        return {"id": chart_id, "title": title, "kind": "line", "format": fmt, "x": labels, "series": list(s),
                **extra}

    return [
        line("volume", "Contacts per interval", "count", series("Offered", "offered", True),
             series("Answered", "answered", True), series("Abandoned", "abandoned", True)),
        line("service_level", f"Service level per interval (answered within {sla} s)", "pct",
             series("Service level", "service_level"), target=target),
        line("aht", "Average handle time and speed of answer per interval", "sec",
             series("AHT", "aht_s"), series("ASA", "asa_s")),
        line("abandonment", "Abandonment rate per interval", "pct",
             series("Abandoned / queued", "abandonment_rate"),
             series("Excluding short abandons", "abandonment_rate_excl_short")),
    ]


def _channel_charts(con, day: date) -> list[dict]:
    channels = _rows(con, _sums_sql(con, "kpi_daily", "day = ? AND grain = 'channel'", "channel"), [day])
    csat = [{"label": c["channel"], "value": _num(c["csat_top2_rate"]), "note": f"{c['csat_responses']} responses"}
            for c in channels if c["csat_responses"]]
    fcr = []
    for c in channels:
        if c["fcr_eligible"]:
            provisional = c["fcr_provisional"] > 0
            note = f"provisional ({c['fcr_provisional']} of {c['fcr_eligible']} not final)" if provisional else "final"
            fcr.append({"label": c["channel"], "value": _num(c["fcr_rate"]), "note": note,
                        "provisional": provisional})
    ivr = next((c for c in channels if c["channel"] == "IVR" and c["ivr_entered"]), None)
    deflection = [] if ivr is None else [
        {"label": "IVR containment", "value": _num(ivr["ivr_containment_rate"]),
         "note": f"{ivr['ivr_contained']} of {ivr['ivr_entered']}"},
        {"label": "Digital offer rate", "value": _num(ivr["digital_offer_rate"]),
         "note": f"{ivr['digital_offered']} of {ivr['ivr_entered']}"},
        {"label": "Digital acceptance rate", "value": _num(ivr["digital_acceptance_rate"]),
         "note": f"{ivr['digital_accepted']} of {ivr['digital_offered']}"},
    ]
    def bar(chart_id, title, bars):
        return {"id": chart_id, "title": title, "kind": "bar", "format": "pct", "bars": bars}
    return [
        bar("csat", "CSAT top-2 rate by channel (share of scores 4–5, not the mean)", csat),
        bar("fcr", "First-contact resolution by channel (light bars: provisional)", fcr),
        bar("deflection", "Digital deflection at the IVR", deflection),
    ]


def _jar_charts(con, day: date, tz: str) -> list[dict]:
    intents, journeys = [], []
    if table_exists(con, "jar"):
        start, end = _utc_bounds(day, tz)
        base = marts_sql.jar_base("attr_ts >= ? AND attr_ts < ?", since=start)
        intents = _rows(con, f"""SELECT "Intent" AS label, count(*) AS value FROM ({base})
            WHERE "Intent" IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_N}""", [start, end])
        journeys = _rows(con, f"""SELECT journey_path AS label, count(DISTINCT "UniversalSessionId") AS value
            FROM ({base}) WHERE journey_path IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_N}""",
                         [start, end])
    return [
        {"id": "intents", "title": "Top intents (contacts)", "kind": "bar", "format": "count", "bars": intents},
        {"id": "journeys", "title": "Top journey paths (universal sessions)", "kind": "bar", "format": "count",
         "bars": journeys},
    ]


def _pct(v):
    return "–" if v is None else f"{v * 100:.1f}%"


def _sec(v):
    return "–" if v is None else f"{v:.0f} s"


def _tiles(con, day: date, sla: int) -> str:
    q = _rows(con, _sums_sql(con, "kpi_daily", "day = ? AND grain = 'queue'"), [day])[0]
    c = _rows(con, _sums_sql(con, "kpi_daily", "day = ? AND grain = 'channel'"), [day])[0]
    ivr = _rows(con, _sums_sql(con, "kpi_daily", "day = ? AND grain = 'channel' AND channel = 'IVR'"), [day])[0]
    fcr_note = f"provisional: {c['fcr_provisional']} rows not final" if c["fcr_provisional"] else ""
    tiles = [
        ("Queued", q["queued"] or 0, ""), ("Answered", q["answered"] or 0, ""),
        ("Abandoned", q["abandoned"] or 0, f"{q['short_abandons'] or 0} short"),
        (f"Service level ({sla} s)", _pct(q["service_level"]), ""), ("ASA", _sec(q["asa_s"]), ""),
        ("AHT", _sec(q["aht_s"]), ""), ("Abandonment rate", _pct(q["abandonment_rate"]), ""),
        ("CSAT top-2 rate (4–5)", _pct(c["csat_top2_rate"]), ""),
        ("CSAT mean (1–5)", "–" if c["csat_mean"] is None else f"{c['csat_mean']:.2f}", ""),
        ("FCR rate", _pct(c["fcr_rate"]), fcr_note),
        ("IVR containment", _pct(ivr["ivr_containment_rate"]), ""), ("Occupancy", _pct(q["occupancy"]), ""),
    ]
    return "".join(
        f'<div class="tile"><div class="label">{html.escape(label)}</div><div class="value">{html.escape(str(v))}'
        f'</div><div class="note">{html.escape(note)}</div></div>' for label, v, note in tiles)


def _json_for_script(payload) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' can close the element."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _write_atomically(path: Path, content: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_dashboard(con, settings, day: date, out_dir: Path) -> Path:
    """Write `kpi-dashboard-YYYY-MM-DD.html` for a local day of `CC_REPORT_TIMEZONE` into out_dir; returns its path."""
    tz, sla = settings.report_timezone, int(settings.sla_seconds)
    target, _ = erlang_settings(settings)
    charts = (_interval_charts(con, day, tz, sla, target) + _channel_charts(con, day) + _jar_charts(con, day, tz))
    title = f"Contact-center KPIs {day.isoformat()}"
    subtitle = (f"Local day in {tz}; queue figures from kpi_daily / kpi_interval, attributed to the interval "
                f"where each leg entered the queue. Service level = answered within {sla} s / "
                f"(queued − short abandons).")
    notes = ("CSAT top-2 rate = scores 4–5 / responses; CSAT mean is shown separately. FCR stays provisional while "
             "rows are younger than the FCR window. Digital deflection covers inbound calls that entered the IVR.")
    page = (TEMPLATE.read_text(encoding="utf-8")
            .replace("__TITLE__", html.escape(title)).replace("__SUBTITLE__", html.escape(subtitle))
            .replace("__NOTES__", html.escape(notes)).replace("__TILES__", _tiles(con, day, sla))
            .replace("__DATA__", _json_for_script({"day": day.isoformat(), "timezone": tz, "charts": charts})))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"kpi-dashboard-{day.isoformat()}.html"
    _write_atomically(path, page)
    return path
