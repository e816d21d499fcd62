"""Notifications: a member's inbox, written in the transaction of what caused it (docs/notifications.md).

Layer: ``community (base) <- notifications <- moderation <- conversations <- realtime``; this
wing imports only the base (models, access, space log) and core, so the actions of the
wings above call it in their own transactions.
"""
