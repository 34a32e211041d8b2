"""Prometheus metrics, computed from the farm's state at scrape time."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from api.deps import KeyOrQueryDep
from farm.service import FarmService

router = APIRouter(tags=["metrics"])


class FarmCollector:
    def __init__(self, service: FarmService):
        self.service = service

    def collect(self):
        svc = self.service
        printers = GaugeMetricFamily("slicefarm_printers", "printers by state", labels=["state"])
        for state, count in svc.printer_states().items():
            printers.add_metric([state], count)
        yield printers
        yield GaugeMetricFamily(
            "slicefarm_queue_length", "prints waiting for a printer", value=svc.queue.queue_length()
        )
        prints = CounterMetricFamily("slicefarm_prints", "prints ended", labels=["result"])
        for result, count in svc.prints_total().items():
            prints.add_metric([result], count)
        yield prints
        yield GaugeMetricFamily(
            "slicefarm_utilisation", "fraction of printers printing", value=svc.utilisation()
        )


def registry_for(service: FarmService) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(FarmCollector(service))
    return registry


@router.get("/metrics", dependencies=[KeyOrQueryDep])
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
