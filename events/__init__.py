"""Brand events in spaces: RSVPs with a waitlist, check-in codes, iCalendar, guests by signed link.

A wing over ``community``: it may import ``core``, ``purpose`` and ``community``, and nothing imports it
but ``app.py`` (docs/architecture.md).
"""
