"""A client process for the crash test: joins a space and prints each event's seq as it arrives.

``python -m tests.community.rt_recording_client URL TOKEN SPACE_ID`` prints ``joined`` once
subscribed, then one line per ``space_event``: ``<seq>``, flushed, so a parent that kills
it with SIGKILL knows exactly what it had received.
"""

from __future__ import annotations

import sys
import threading

import socketio

from tests.live import handle_messages_in_order

url, token, space_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = socketio.Client(reconnection=False)
handle_messages_in_order(client)  # printed in the order received: the parent reads the last one as "seen up to"
client.on("space_event", lambda event: print(event["seq"], flush=True))
client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
assert client.call("join", {"space_id": space_id}, timeout=10)["ok"]
print("joined", flush=True)
threading.Event().wait()  # run until killed
