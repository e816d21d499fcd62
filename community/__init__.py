"""Community spaces: the shared base of three wings (docs/architecture.md, "Where does my change go").

Base (this package's own modules): ``models`` (every community table), ``access``
(visibility, roles, and the access signals), ``schemas`` (the wire shapes of spaces,
threads and posts, shared by REST and Socket.IO), ``space_log`` (per-space sequence,
event log, publish after commit, replay). Wings, each importing only the base and the
wings below it: ``moderation`` <- ``conversations`` <- ``realtime``.
"""
