"""Stored graph reports: the request and its progress, the report JSON, and the analysed graph.

``GraphReport`` is one row per request: scope (brand, purpose or space), parameters,
progress, the lease of the worker running it, and the finished report JSON.
``GraphReportGraph`` holds the graph the report analysed (objected people already
removed), gzip-compressed, one row per done report: exports (GraphML, GEXF, PNG) and
comparisons read it, so they show exactly the snapshot the report describes.
``ReportPerson`` is one row per person of a done report, indexed for the people listing
(``GET /reports/{id}/people``) and its streamed CSV, so nobody unpacks the graph for them.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
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


class ReportPerson(db.Model):
    """A person of a done report as the report saw them: attributes from the loader, measures
    from the analysis. ``opportunity_rank`` and ``opportunity_score`` rank every candidate
    (1 = best); they are NULL for people who may not be ranked (heavy and medium users,
    objectors). An erased person's rows are deleted with the rest of their report data."""

    __tablename__ = "report_people"
    __table_args__ = (
        UniqueConstraint("report_id", "node"),
        Index("ix_report_people_report_id_opportunity_rank", "report_id", "opportunity_rank"),
        Index("ix_report_people_report_id_pagerank", "report_id", "pagerank"),
        Index("ix_report_people_report_id_community_pagerank", "report_id", "community", "pagerank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("graph_reports.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(120))
    external_id: Mapped[str | None] = mapped_column(String(128))
    stakeholder_id: Mapped[int | None] = mapped_column(index=True)
    account_id: Mapped[int | None] = mapped_column(index=True)
    segment: Mapped[str | None] = mapped_column(String(16))
    pyramid_level: Mapped[int] = mapped_column(default=0)
    style_preference: Mapped[str | None] = mapped_column(String(16))
    community: Mapped[int] = mapped_column(default=0)
    pagerank: Mapped[float] = mapped_column(Float, default=0.0)
    betweenness: Mapped[float] = mapped_column(Float, default=0.0)
    core_number: Mapped[int] = mapped_column(default=0)
    opportunity_rank: Mapped[int | None]
    opportunity_score: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[float] = mapped_column(Float, default=0.0)
    purpose_alignment: Mapped[float] = mapped_column(Float, default=0.0)
