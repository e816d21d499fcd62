"""What a report may draw on and who may read it (issue 23, item 8; docs/analytics.md, "Who sees what in a report").

The rule: **a report holds nothing its reader could not read.** A new report loads the
brand's public spaces and only the private spaces its requester may see (their member, the
brand's managers, admins); the ids of those private spaces are stored in the report's
``params["private_spaces"]``. A reader must be the brand's analyst, manager or an admin
(``purpose.access.can_analyse_brand``) **and** see every private space the report drew on;
to anyone else the report is a 404 and is left out of listings, as for an id never used.

Why exclusion rather than scrubbing names afterwards: who is in the graph, their ranks,
communities and counts are all shaped by the conversations loaded, so a report computed on
a private space's posts shows its members and activity even with its name removed.
"""

from __future__ import annotations

from sqlalchemy import select

from community.access import visible_spaces_clause
from community.models import Space, Visibility
from core.accounts import Account
from core.extensions import db
from graph.models import GraphReport
from purpose.access import can_analyse_brand
from purpose.models import Purpose


def _private_in_scope(brand_id: int, purpose_id: int | None, space_id: int | None):
    stmt = select(Space.id).join(Purpose, Purpose.id == Space.purpose_id).where(
        Purpose.brand_id == brand_id, Space.visibility == Visibility.private)
    if purpose_id is not None:
        stmt = stmt.where(Space.purpose_id == purpose_id)
    if space_id is not None:
        stmt = stmt.where(Space.id == space_id)
    return stmt


def private_spaces_for(account: Account, brand_id: int, purpose_id: int | None = None,
                       space_id: int | None = None) -> list[int]:
    """The private spaces in the scope that ``account`` may see: what its new report may draw on."""
    stmt = _private_in_scope(brand_id, purpose_id, space_id).where(visible_spaces_clause(account))
    return sorted(db.session.scalars(stmt))


def drawn_on(report: GraphReport) -> set[int]:
    """The private spaces the report was computed on; every private space in its scope for reports
    made before the rule (they loaded all of them)."""
    stored = (report.params or {}).get("private_spaces")
    if stored is not None:
        return set(stored)
    return set(db.session.scalars(_private_in_scope(report.brand_id, report.purpose_id, report.space_id)))


def may_read(account: Account, report: GraphReport) -> bool:
    """The brand's analyst, manager or an admin who sees every private space the report drew on."""
    if not can_analyse_brand(account, report.brand_id):
        return False
    needed = drawn_on(report)
    if not needed:
        return True
    seen = db.session.scalars(select(Space.id).where(Space.id.in_(needed), visible_spaces_clause(account)))
    return needed <= set(seen)


def readable(account: Account, brand_id: int, reports: list[GraphReport]) -> list[GraphReport]:
    """Those of the brand's ``reports`` that ``account`` (allowed to analyse the brand) may read: one
    query for the private spaces it sees, not one per report."""
    seen = set(private_spaces_for(account, brand_id))
    return [report for report in reports if drawn_on(report) <= seen]
