"""Who manages a brand: platform admins and the brand's managers."""

from __future__ import annotations

from sqlalchemy import exists, select

from core.accounts import Account
from core.errors import forbidden
from core.extensions import db
from purpose.models import BrandManager


def is_brand_manager(account: Account, brand_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(exists().where(BrandManager.brand_id == brand_id, BrandManager.account_id == account.id))
        )
    )


def require_brand_manager(account: Account, brand_id: int) -> None:
    if not (account.is_admin or is_brand_manager(account, brand_id)):
        raise forbidden("Only platform admins and this brand's managers may do this.")
