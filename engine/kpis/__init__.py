"""KPIs (考核指标) per department and unit subtree, from the audit trail and the SLA clocks."""

from engine.kpis.aggregate import KpiRow
from engine.kpis.compute import KpiReport, Period, compute_kpis
from engine.kpis.definitions import METRICS, weights_of

__all__ = ["METRICS", "KpiReport", "KpiRow", "Period", "compute_kpis", "weights_of"]
