"""A person's rights over their data: export, erasure and objection.

Erasure removes personal data from the brand's tables here and tells every other part
that keeps data about the person (stored reports, for one) through ``person_erased``.
"""

from __future__ import annotations

from blinker import Namespace

#: Sent after a commit that erased a stakeholder: ``sender`` is the brand id, with
#: ``stakeholder_id`` and ``account_id`` (None for a nonuser). Listeners scrub their copies.
person_erased = Namespace().signal("person-erased")
