"""Recognition (issue 27, pyramid level 4): badges (automatic, rule-based and tiered; manual, awarded by a
brand's managers) and trust levels in the spirit of Discourse's.

A wing beside ``events`` and ``graph``: it may import ``core``, ``purpose`` and ``community``, and nothing
imports it but ``app.py`` (docs/architecture.md; ``tests/events/test_events_api.py`` checks the imports).
It reads the events wing's ``event_attendees`` table through a Core ``table()`` of the columns it needs
(``recognition/rules.py``), never the events modules.
"""
