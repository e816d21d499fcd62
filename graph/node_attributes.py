"""Contract node attributes (``docs/analytics.md``) from relationship profiles; pure, no database.

``graph.load`` calls these for each person: :func:`person_attributes` for a stakeholder's
``purpose.profiles.Profile``, :func:`unknown_member_attributes` for a member the brand has
no stakeholder row for (the profile rules applied to their community activity alone).
"""

from __future__ import annotations

from datetime import datetime, timezone

from purpose.relationship import Person, purpose_alignment, pyramid_position


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC (stored naive times are UTC), or None."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def person_attributes(profile, purpose_id: int | None) -> dict:
    """Attributes from a profile; alignment with ``purpose_id``, or the best one when None."""
    known, rfm = profile.stakeholder, profile.rfm
    aligned = (max(profile.alignment, key=lambda pid: (profile.alignment[pid], -pid), default=None) if purpose_id is None
               else purpose_id)
    alignment = profile.alignment.get(aligned, 0.0) if aligned is not None else 0.0
    member = known.account_id is not None
    # A nonuser's purchases make them a customer, not a heavy user of the community: their graph segment
    # stays "nonuser" (the RFM segment is in ``rfm``, their spend in ``clv``).
    return {"kind": "member" if member else "nonuser", "segment": profile.segment if member else "nonuser",
            "pyramid_level": int(profile.pyramid["level"]), "style_preference": known.contact_preference,
            "objected": False, "purpose_alignment": float(alignment),
            "clv": float(profile.clv["value"]) if profile.clv else 0.0,
            "rfm": {"recency": rfm["recency_days"], "frequency": int(rfm["frequency"]), "monetary": float(rfm["monetary"])},
            "stakeholder_id": known.id, "converted_at": iso(known.converted_at),
            "label": known.display_name or f"{known.kind.replace('_', ' ')} #{known.id}", "name": known.display_name,
            "external_id": known.external_id,
            "aligned_purpose_id": aligned}


def unknown_member_attributes(*, first_seen: float | None, recognitions: int, posts: int, interests: list,
                              tags: dict, purpose_id: int | None, as_of: datetime) -> dict:
    """A member without a stakeholder row: no purchases, so segment ``light``, RFM None and CLV 0;
    pyramid level from tenure, recognition and posts; alignment from declared interests and posts."""
    first = None if first_seen is None else datetime.fromtimestamp(first_seen, timezone.utc)
    person = Person(id=0, is_member=True, first_seen=first, recognitions_received=recognitions, posts=posts)
    scores = ({purpose_id: purpose_alignment(interests, tags.get(purpose_id) or [], interactions=posts)}
              if purpose_id is not None else
              {pid: purpose_alignment(interests, t or [], interactions=posts) for pid, t in tags.items()})
    aligned = max(scores, key=lambda pid: (scores[pid], -pid), default=None)
    alignment = scores.get(aligned, 0.0) if aligned is not None else 0.0
    return {"kind": "member", "segment": "light", "pyramid_level": pyramid_position(person, as_of).level,
            "style_preference": None, "objected": False, "purpose_alignment": float(alignment), "clv": 0.0,
            "rfm": None, "stakeholder_id": None, "converted_at": None, "external_id": None,
            "aligned_purpose_id": aligned}
