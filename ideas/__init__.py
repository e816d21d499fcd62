"""Ideas in a space (co-creation): members submit them, vote once each, the brand's managers set their status.

A wing over ``community`` like ``events``: it may import ``core``, ``purpose`` and ``community``, and nothing
imports it but ``app.py`` (docs/architecture.md). Another wing that wants to hear of a shipped idea connects
to ``ideas.signals.idea_shipped`` from its ``init_*``.
"""
