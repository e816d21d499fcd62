"""Conversations: spaces and their members, threads, posts, reactions, mentions (REST and the service).

Imports the community base and ``community.moderation`` (what the post path enforces).
"""
