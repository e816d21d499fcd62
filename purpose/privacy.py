"""A person's rights over their data: export, erasure and objection.

Erasure removes the person's personal data from the brand's tables here and tells every
other part that keeps data about them (community activity, stored reports) through
``person_erased``; export asks every registered source for what it holds on the person.
"""

from __future__ import annotations

from typing import Callable

from blinker import Namespace
from sqlalchemy import select

from core.accounts import Account, anonymise_account
from core.outbox import on_commit
from core.extensions import db, utcnow
from purpose import snapshots
from purpose.models import Stakeholder, Touchpoint
from purpose.stakeholders import erased_external_id

#: Sent once the transaction that erased a stakeholder commits (``core.outbox``): ``sender`` is the brand id, with
#: ``stakeholder_id`` and ``account_id`` (None for a nonuser). Listeners scrub their copies.
person_erased = Namespace().signal("person-erased")

#: Sent before an account is anonymised (``sender`` is the account id), in the erasure's transaction:
#: the community layer deletes the person's posts, reactions and memberships through its own paths.
account_erasing = Namespace().signal("account-erasing")

#: ``source(stakeholder) -> (section name, JSON-able data)``: what another part stores on the person.
ExportSource = Callable[[Stakeholder], tuple[str, object]]
_export_sources: list[ExportSource] = []

_STAKEHOLDER_FIELDS = ("id", "brand_id", "kind", "source", "external_id", "display_name", "interests", "purpose_ids",
                       "email", "legal_basis",
                       "contact_preference", "objected", "objected_at", "created_at", "converted_at", "converted_from")
_TOUCHPOINT_FIELDS = ("id", "kind", "occurred_at", "amount", "currency", "purpose_id", "other_stakeholder_id",
                      "event_ref", "source", "external_id")


#: ``source(account_id) -> (section name, JSON-able data)``: what another part stores on an account.
_account_export_sources: list[Callable[[int], tuple[str, object]]] = []


def register_export_source(source: ExportSource | None = None, *, account_source=None) -> None:
    """Add what another part stores about a brand's stakeholder (``source``) or about an account."""
    for registry, item in ((_export_sources, source), (_account_export_sources, account_source)):
        if item is not None and item not in registry:
            registry.append(item)


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return getattr(value, "value", value)


def _row(obj, fields) -> dict:
    return {f: _plain(getattr(obj, f)) for f in fields}


def export_person(stakeholder: Stakeholder) -> dict:
    """Everything stored about the person for this brand, as JSON-able data."""
    touchpoints = db.session.scalars(
        select(Touchpoint).where((Touchpoint.stakeholder_id == stakeholder.id) | (Touchpoint.other_stakeholder_id == stakeholder.id))
        .order_by(Touchpoint.occurred_at, Touchpoint.id)
    )
    out = {"stakeholder": _row(stakeholder, _STAKEHOLDER_FIELDS),
           "touchpoints": [_row(t, _TOUCHPOINT_FIELDS) for t in touchpoints]}
    if stakeholder.account_id is not None:
        account = db.session.get(Account, stakeholder.account_id)
        out["account"] = _row(account, ("id", "email", "handle", "display_name", "interests", "created_at"))
    for source in _export_sources:
        name, data = source(stakeholder)
        out[name] = data
    return out


def erase_person(stakeholder: Stakeholder) -> None:
    """Remove the person's personal data everywhere; the row stays as an anonymous tombstone.

    Their touchpoints are deleted (referrals they were the other side of lose that side),
    contact data and the link to an account are cleared, and the external id is replaced by a
    keyed hash so importing the same source file again does not bring the person back.
    """
    account_id = stakeholder.account_id
    snapshots.forget_person(stakeholder.brand_id, stakeholder.id)  # first: takes the brand row's lock (snapshots.py)
    db.session.execute(db.delete(Touchpoint).where(Touchpoint.stakeholder_id == stakeholder.id))
    db.session.execute(db.update(Touchpoint).where(Touchpoint.other_stakeholder_id == stakeholder.id)
                       .values(other_stakeholder_id=None))
    if stakeholder.external_id and not stakeholder.external_id.startswith("erased:"):
        stakeholder.external_id = erased_external_id(stakeholder.external_id)
    stakeholder.email = stakeholder.email_hash = stakeholder.account_id = stakeholder.display_name = None
    stakeholder.interests = stakeholder.purpose_ids = None
    stakeholder.contact_preference = None
    stakeholder.erased_at = utcnow()
    on_commit(person_erased.send, stakeholder.brand_id, stakeholder_id=stakeholder.id, account_id=account_id)


def _linked(account: Account) -> list[Stakeholder]:
    return list(db.session.scalars(select(Stakeholder).where(Stakeholder.account_id == account.id).order_by(Stakeholder.id)))


def export_account(account: Account) -> dict:
    """Everything the platform stores about an account: its profile and each brand's record of it."""
    profile = _row(account, ("id", "email", "handle", "display_name", "role", "status", "interests", "created_at"))
    out = {"account": profile, "brands": [export_person(s) for s in _linked(account)]}
    for source in _account_export_sources:
        name, data = source(account.id)
        out[name] = data
    return out


def erase_account(account: Account) -> None:
    """Erase a person from the whole platform: every brand's record, their community content, the
    account, in one transaction (the request commits it): a failure half way erases nothing."""
    for stakeholder in _linked(account):
        erase_person(stakeholder)
    account_erasing.send(account.id)
    anonymise_account(account)


def set_objection(stakeholder: Stakeholder, objected: bool) -> Stakeholder:
    """Record (or withdraw) an objection: an objecting person is left out of every later analysis, and
    of every people snapshot from the moment the objection commits."""
    if objected:
        snapshots.forget_person(stakeholder.brand_id, stakeholder.id)
    else:
        snapshots.people_changed(stakeholder.brand_id)
    stakeholder.objected = objected
    stakeholder.objected_at = utcnow() if objected else None
    return stakeholder
