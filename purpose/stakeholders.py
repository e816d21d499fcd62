"""Stakeholders: keyed email hashes for matching, and linking a registration to known nonusers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts import Account, account_registered
from core.extensions import db, utcnow
from core.validation import normalise_email
from purpose.models import Stakeholder, StakeholderKind
from purpose.snapshots import people_changed


def _hash_key() -> bytes:
    return (current_app.config.get("EMAIL_HASH_KEY") or current_app.config["SECRET_KEY"]).encode()


def _keyed_hash(value: str, key: bytes | None = None) -> str:
    return hmac.digest(key or _hash_key(), value.encode(), "sha256").hex()  # one-shot HMAC-SHA256 in OpenSSL


def email_hash(email: str) -> str:
    """HMAC-SHA256 of the normalised email under ``EMAIL_HASH_KEY`` (default: ``SECRET_KEY``).

    Keyed, so a leaked hash column cannot be matched against a list of known addresses
    without the key; changing the key means re-hashing stored stakeholders.
    """
    return _keyed_hash(normalise_email(email))


def email_hasher() -> Callable[[str], str]:
    """``email_hash`` with the key read once, for bulk work (an import hashes every row), of an
    email already normalised (as the import's schemas return it: ``EmailAddress``)."""
    keyed = hmac.new(_hash_key(), digestmod=hashlib.sha256)  # the key's pads hashed once, copied per email

    def hashed(normalised: str) -> str:
        h = keyed.copy()
        h.update(normalised.encode())
        return h.hexdigest()

    return hashed


ERASED_PREFIX = "erased:"


def erased_external_id(external_id: str) -> str:
    """The one-way stand-in an erased person's external id becomes (same key as emails):
    importing the same source row again finds it and skips the row, without storing the id."""
    return ERASED_PREFIX + _keyed_hash("external-id:" + external_id)[:48]


def link_registration(account: Account) -> list[Stakeholder]:
    """Link the unlinked stakeholders with the account's email to it, recording the conversion.

    One per brand (a brand has at most one stakeholder per account): where a brand knows the
    address from several sources, the earliest stored row becomes the member and the others
    stay as they are, so registration never fails on a brand's duplicate records."""
    linked = set(db.session.scalars(select(Stakeholder.brand_id).where(Stakeholder.account_id == account.id)))
    matches = []
    for stakeholder in db.session.scalars(
        select(Stakeholder)
        .where(Stakeholder.email_hash == email_hash(account.email), Stakeholder.account_id.is_(None))
        .order_by(Stakeholder.id)
    ):
        if stakeholder.brand_id not in linked:
            linked.add(stakeholder.brand_id)
            matches.append(stakeholder)
    now = utcnow()
    for stakeholder in matches:
        stakeholder.account_id = account.id
        if stakeholder.kind is not StakeholderKind.member:
            stakeholder.converted_from, stakeholder.converted_at = stakeholder.kind, now
            stakeholder.kind = StakeholderKind.member
    if matches:
        for brand_id in sorted({s.brand_id for s in matches}):
            people_changed(brand_id)
        db.session.commit()
    return matches


def member_record(brand_id: int, account_id: int, source: str) -> Stakeholder:
    """The brand's stakeholder record of a member, made (kind ``member``, from ``source``) when there
    is none yet: what events and ideas attach a member's touchpoints to. A record made is a new person
    of the brand: it bumps the people version (``purpose/snapshots.py``)."""
    lookup = select(Stakeholder).where(Stakeholder.brand_id == brand_id, Stakeholder.account_id == account_id)
    found = db.session.scalar(lookup)
    if found is not None:
        return found
    stakeholder = Stakeholder(brand_id=brand_id, account_id=account_id, kind=StakeholderKind.member, source=source)
    try:
        with db.session.begin_nested():  # another request made it at the same moment: take theirs
            db.session.add(stakeholder)
    except IntegrityError:  # the unique (brand, account) key refused the second
        found = db.session.scalar(lookup)
        if found is None:
            raise
        return found
    people_changed(brand_id)
    return stakeholder


def _on_registered(account: Account, **_kwargs) -> None:
    link_registration(account)


def init_stakeholders(app: Flask) -> None:
    account_registered.connect(_on_registered)
