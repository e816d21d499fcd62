"""Moderation: flags, hiding, locks, sanctions, appeals, personal mutes and blocks, the audit log.

Imports only the community base; ``rules`` is what the post path of ``community.conversations`` enforces.
"""
