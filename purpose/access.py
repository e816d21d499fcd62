"""Who may do what with a brand: platform admins, the brand's managers and its analysts."""

from __future__ import annotations

from blinker import Namespace
from sqlalchemy import exists, select

from core.accounts import Account
from core.errors import forbidden
from core.extensions import db
from purpose.models import BrandAnalyst, BrandManager


#: Sent after a commit that made an account a brand manager or ended that: ``sender`` is the
#: account id, with ``brand_id``. The real-time layer moves the account's open sockets at once
#: (into or out of the brand's moderators' rooms; off private spaces it may no longer see).
brand_staff_changed = Namespace().signal("brand-staff-changed")


def _assigned(model, account: Account, brand_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(model.brand_id == brand_id, model.account_id == account.id))))


def is_brand_manager(account: Account, brand_id: int) -> bool:
    return _assigned(BrandManager, account, brand_id)


def require_brand_manager(account: Account, brand_id: int) -> None:
    if not (account.is_admin or is_brand_manager(account, brand_id)):
        raise forbidden("Only platform admins and this brand's managers may do this.")


def can_analyse_brand(account: Account, brand_id: int) -> bool:
    """Admins, the brand's managers and the analysts assigned to the brand read its people and reports."""
    return account.is_admin or is_brand_manager(account, brand_id) or _assigned(BrandAnalyst, account, brand_id)


def require_brand_analyst(account: Account, brand_id: int) -> None:
    if not can_analyse_brand(account, brand_id):
        raise forbidden("Only this brand's analysts, its managers and platform admins may see its people and reports.")
