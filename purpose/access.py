"""Who may do what with a brand: platform admins, the brand's managers and its analysts.

The analyst rule (issue 23, item 8), in one place: a brand analyst is an account that holds
the platform's ``analyst`` role **and** is appointed to the brand (a ``brand_staff`` row with role ``analyst``).
Only accounts holding that role (or admins) may be appointed (``require_appointable``), and
an appointment counts only while the role is held: taking the role away closes the brand's
people and reports to the account at once, without touching the appointment, which counts
again if the role is given back. Every endpoint that reads a brand's people or reports asks
``can_analyse_brand``.
"""

from __future__ import annotations

from blinker import Namespace
from sqlalchemy import Integer, bindparam, select

from core import sql
from core.accounts import Account, GlobalRole
from core.errors import ApiError, forbidden
from core.extensions import db
from purpose.models import BrandStaff, StaffRole


#: Sent once the transaction that made an account a brand manager, or ended that, commits: ``sender`` is the
#: account id, with ``brand_id``. The real-time layer moves the account's open sockets at once
#: (into or out of the brand's moderators' rooms; off private spaces it may no longer see).
brand_staff_changed = Namespace().signal("brand-staff-changed")

#: Global roles that may be appointed a brand's analyst.
ANALYST_ROLES = frozenset({GlobalRole.analyst, GlobalRole.admin})


#: The account's roles at a brand, prebuilt (core/sql.py): every analyst request asks it.
_ROLES = select(BrandStaff.role).where(BrandStaff.brand_id == bindparam("brand_id", type_=Integer()),
                                       BrandStaff.account_id == bindparam("account_id", type_=Integer()))


def roles_at(account: Account, brand_id: int) -> set[StaffRole]:
    """The roles the account holds at the brand (its ``brand_staff`` rows), in one query."""
    return {row[0] for row in sql.run(_ROLES, {"brand_id": brand_id, "account_id": account.id})}


def holds(account: Account, brand_id: int, role: StaffRole) -> bool:
    """Whether the account holds ``role`` at the brand (a ``brand_staff`` row)."""
    return role in roles_at(account, brand_id)


def is_brand_manager(account: Account, brand_id: int) -> bool:
    return holds(account, brand_id, StaffRole.manager)


def require_brand_manager(account: Account, brand_id: int) -> None:
    if not (account.is_admin or is_brand_manager(account, brand_id)):
        raise forbidden("Only platform admins and this brand's managers may do this.")


def is_brand_analyst(account: Account, brand_id: int) -> bool:
    """Appointed to the brand and still holding the ``analyst`` role."""
    return account.role is GlobalRole.analyst and holds(account, brand_id, StaffRole.analyst)


def can_analyse_brand(account: Account, brand_id: int) -> bool:
    """Admins, the brand's managers and its analysts (``is_brand_analyst``) read its people and reports."""
    if account.is_admin:
        return True
    held = roles_at(account, brand_id)
    return StaffRole.manager in held or (account.role is GlobalRole.analyst and StaffRole.analyst in held)


def require_brand_analyst(account: Account, brand_id: int) -> None:
    if not can_analyse_brand(account, brand_id):
        raise forbidden("Only this brand's analysts, its managers and platform admins may see its people and reports.")


def require_appointable(account: Account) -> None:
    """409 ``not-an-analyst`` unless the account holds the ``analyst`` role (or is an admin)."""
    if account.role not in ANALYST_ROLES:
        raise ApiError(409, "Only accounts with the platform's analyst role can be a brand's analysts; "
                            "an admin grants the role first (PUT /accounts/{id}/role).", type_="not-an-analyst")
