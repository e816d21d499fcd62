"""Real time: the Socket.IO protocol, handlers, connections, presence, fan-out and the WebSocket layer.

Imports the community base, ``community.moderation`` and ``community.conversations``; nothing imports it
except ``app.py``, which calls ``listeners.init_realtime``.
"""
