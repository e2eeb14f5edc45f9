"""The app's Prometheus metrics, served at /metrics.

Each app gets a registry of its own instead of prometheus-client's global one:
two apps in one process (tests, a notebook) would otherwise try to register the
same names twice, and one would fail. The pool's figures are read from the
PoolWatch when Prometheus scrapes, so there is no second copy to keep in step.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .pool_watch import PoolWatch

PREFIX = "storefront_db_pool"


class PoolCollector(Collector):
    def __init__(self, watch: PoolWatch) -> None:
        self.watch = watch

    def collect(self) -> Iterator[Metric]:
        health = self.watch.health()
        gauges = {
            "size": ("Connections the pool keeps open", health.size),
            "max_overflow": ("Connections it may open beyond its size", health.max_overflow),
            "checked_out": ("Connections held by sessions", health.checked_out),
            "overflow": ("Connections open beyond the pool's size", health.overflow),
            "waiting": ("Checkouts waiting for a connection", health.waiting),
            "longest_checkout_seconds": (
                "How long the longest-held connection has been out",
                health.longest_checkout_seconds,
            ),
        }
        for name, (documentation, value) in gauges.items():
            yield GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)
        counters = {
            "checkouts": ("Connections taken from the pool", health.checkouts_total),
            "connects": ("Connections opened to the server", health.connects_total),
            "invalidations": ("Connections found broken and discarded", health.invalidations_total),
        }
        for name, (documentation, value) in counters.items():
            yield CounterMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def metrics_registry(watch: PoolWatch) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(PoolCollector(watch))
    return registry
