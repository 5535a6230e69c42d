"""The dashboard: today's calls by outcome, open work, the outbox, charts by hour and by day."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from appliance.domain.records import CallbackStatus, CallQuery, JobStatus, TicketStatus
from appliance.errors import ApplianceError
from appliance.ports.telephony import EngineStatus
from webui import reports
from webui.charts import bar_chart
from webui.deps import (
    CatalogDep,
    ContextDep,
    LangDep,
    NowDep,
    StoreDep,
    UserDep,
    WebContext,
    display_zone,
)
from webui.i18n import translator
from webui.rendering import render

router = APIRouter(tags=["dashboard"])

CHART_DAYS = 14
_MAX_CALLS = 20000  # a fortnight of overflow on a busy site; beyond that the chart is a sample


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, user: UserDep, store: StoreDep, catalog: CatalogDep, now: NowDep,
    lang: LangDep, context: ContextDep, changed: int = 0,
) -> HTMLResponse:
    t = translator(lang)
    zone = display_zone(catalog)
    today_start = reports.start_of_day(now, zone)
    fortnight = store.list_calls(
        CallQuery(since=today_start - timedelta(days=CHART_DAYS - 1)), limit=_MAX_CALLS)
    today = [c for c in fortnight if c.started_at >= today_start]
    open_tickets = [tk for tk in store.list_tickets(limit=1000) if tk.status is TicketStatus.OPEN]
    stats = store.outbox_stats()
    return render(
        request, "dashboard.html", user=user, zone=zone,
        notice="Password changed." if changed else None,
        calls_today=len(today),
        outcomes=reports.by_outcome(today),
        open_messages=len(store.list_messages(handled=False, limit=1000)),
        open_tickets=len(open_tickets),
        open_callbacks=len(store.list_callbacks(status=CallbackStatus.OPEN, limit=1000)),
        outbox=stats, pending=stats.counts.get(JobStatus.PENDING, 0),
        failed_jobs=store.list_jobs(JobStatus.FAILED, limit=10),
        hour_chart=bar_chart(reports.by_hour(today, zone), title=t("Calls by hour, today"),
                             label_every=2),
        day_chart=bar_chart(reports.by_day(fortnight, zone, today_start.date(), CHART_DAYS),
                            title=t("Calls by day")),
        services=sorted(catalog.profiles.values(), key=lambda p: p.name), now=now,
        engine=engine_status(context),
        api_keys=sum(1 for k in store.list_api_keys() if not k.revoked),
    )


def engine_status(context: WebContext) -> EngineStatus | None:
    """The SIP engine's state, or None when this web UI runs without one (or it cannot say)."""
    if context.engine_status is None:
        return None
    try:
        return context.engine_status()
    except ApplianceError:
        return None
