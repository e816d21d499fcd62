"""Stored graph reports: the request and its progress, the report JSON, and the analysed graph.

``GraphReport`` is one row per request: scope (brand, purpose or space), parameters,
progress, the lease of the worker running it, and the finished report JSON.
``GraphReportGraph`` holds the graph the report analysed (objected people already
removed), gzip-compressed, one row per done report: exports (GraphML, GEXF, PNG) and
comparisons read it, so they show exactly the snapshot the report describes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, string_enum, utcnow

#: Format version of the stored report JSON; bump when its shape changes.
REPORT_VERSION = 1


class ReportStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


FINISHED = (ReportStatus.done, ReportStatus.failed, ReportStatus.cancelled)


class GraphReport(db.Model):
    __tablename__ = "graph_reports"
    __table_args__ = (Index("ix_graph_reports_brand_id_id", "brand_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    purpose_id: Mapped[int | None] = mapped_column(ForeignKey("purposes.id", ondelete="SET NULL"))
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id", ondelete="SET NULL"))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    #: seed, top, since, half_life_days, max_pivots, resolution: everything that shapes the result.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=REPORT_VERSION)
    status: Mapped[ReportStatus] = mapped_column(string_enum(ReportStatus), default=ReportStatus.queued)
    stage: Mapped[str] = mapped_column(String(40), default="queued")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(400))
    snapshot_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: The worker holding the report and until when; a lapsed lease lets another worker take over.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict | None] = mapped_column(JSON)


class GraphReportGraph(db.Model):
    """The analysed graph of a done report: gzip'd JSON ``{"graph", "nodes", "edges"}``."""

    __tablename__ = "graph_report_graphs"

    report_id: Mapped[int] = mapped_column(ForeignKey("graph_reports.id", ondelete="CASCADE"), primary_key=True)
    nodes: Mapped[int] = mapped_column(default=0)
    edges: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
