"""Actions on brands, their staff and purposes: check, change, queue what follows; never commit.

Views in ``purpose/api.py`` and ``purpose/people_api.py`` only parse, call these and
serialise; the request commits once (core/outbox.py). Appointing or dismissing a manager
tells the real-time layer once the change commits (``brand_staff_changed``), so the
account's open sockets move at once.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from core.accounts import Account
from core.errors import conflict
from core.extensions import db
from core.outbox import on_commit
from purpose.access import brand_staff_changed, require_appointable, require_brand_manager
from purpose.models import Brand, BrandStaff, Purpose, StaffRole


def do_create_brand(args: dict) -> Brand:
    if db.session.scalar(select(Brand.id).where(Brand.name == args["name"])) is not None:
        raise conflict("A brand with this name already exists.", "brand-exists")
    brand = Brand(**args)
    db.session.add(brand)
    db.session.flush()
    return brand


def do_appoint(brand_id: int, account: Account, role: StaffRole) -> BrandStaff:
    """Give the account ``role`` at the brand; appointing twice returns the first appointment.
    An analyst must hold the platform's analyst role (409 ``not-an-analyst``)."""
    if role is StaffRole.analyst:
        require_appointable(account)
    lookup = select(BrandStaff).where(BrandStaff.brand_id == brand_id, BrandStaff.account_id == account.id,
                                      BrandStaff.role == role)
    staff = db.session.scalar(lookup)
    if staff is None:
        staff = BrandStaff(brand_id=brand_id, account_id=account.id, role=role)
        db.session.add(staff)
        db.session.flush()
        if role is StaffRole.manager:
            on_commit(brand_staff_changed.send, account.id, brand_id=brand_id)
    return staff


def do_dismiss(brand_id: int, account_id: int, role: StaffRole) -> None:
    """End the account's ``role`` at the brand (nothing to end is not an error)."""
    removed = db.session.execute(delete(BrandStaff).where(
        BrandStaff.brand_id == brand_id, BrandStaff.account_id == account_id, BrandStaff.role == role)).rowcount
    if removed and role is StaffRole.manager:
        on_commit(brand_staff_changed.send, account_id, brand_id=brand_id)


def do_create_purpose(account: Account, brand_id: int, args: dict) -> Purpose:
    """State a life or societal purpose for the brand (admins and the brand's managers)."""
    require_brand_manager(account, brand_id)
    purpose = Purpose(brand_id=brand_id, **args)
    db.session.add(purpose)
    db.session.flush()
    return purpose
