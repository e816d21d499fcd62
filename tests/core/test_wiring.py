"""Start-up wiring: every signal receiver and registry entry comes from ``create_app``.

Erasure, exports and socket cut-offs reach other layers only through blinker signals and
registries (docs/architecture.md). If a module connected at import time instead, whether
erasure reached, say, moderation data would depend on what some earlier code happened to
import. Each check runs in a fresh interpreter, so nothing other tests imported counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What ``create_app`` must wire, by signal or registry: receivers and sources by qualified name.
EXPECTED = {
    "core.accounts.account_registered": ["events.guests.link_registered_guest", "purpose.stakeholders._on_registered"],
    "core.accounts.access_revoked": ["community.realtime.listeners._on_access_revoked"],
    "community.access.space_access_lost": ["community.realtime.listeners.cut_off_space"],
    "community.access.space_role_changed": ["community.realtime.listeners._on_role_changed"],
    "purpose.access.brand_staff_changed": ["community.realtime.listeners._on_brand_staff_changed"],
    "purpose.privacy.person_erased": ["events.privacy.erase_guest_records", "graph.tasks.scrub_erased_person"],
    "purpose.privacy.account_erasing": ["community.conversations.activity.erase_community_content",
                                        "community.conversations.direct.erase_direct_messages",
                                        "community.conversations.reading.erase_read_positions",
                                        "community.moderation.members.erase_moderation_data",
                                        "community.notifications.service.erase_notifications",
                                        "events.privacy.erase_account_events",
                                        "ideas.privacy.erase_account_ideas",
                                        "recognition.service.erase_account_badges"],
    "graph.tasks.report_finished": [],
    "purpose.people._activity_sources": ["community.conversations.activity.activity_by_account",
                                         "recognition.service.badge_activity"],
    "purpose.snapshots._snapshot_sources": ["graph.tasks.snapshot_measures"],
    "purpose.snapshots.snapshot_finished": [],
    "purpose.privacy._export_sources": ["community.conversations.activity.export_community",
                                        "events.privacy.export_events", "ideas.privacy.export_ideas"],
    "purpose.privacy._account_export_sources": ["community.conversations.activity.export_account_community",
                                                "community.conversations.direct.export_conversations",
                                                "community.conversations.reading.export_read_positions",
                                                "community.moderation.members.export_moderation_data",
                                                "community.notifications.service.export_notifications",
                                                "events.privacy.export_account_events",
                                                "ideas.privacy.export_account_ideas",
                                                "recognition.service.export_account_badges"],
}

_SCRIPT = r"""
import importlib, json, pkgutil, sys

IMPORT_ALL = sys.argv[1] == "all"
NAMES = json.loads(sys.argv[2])

if IMPORT_ALL:  # every module of the four layers, before any app exists
    for package in ("core", "purpose", "community", "events", "recognition", "ideas", "graph", "devtools"):
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            importlib.import_module(info.name)

import app


def wired():
    out = {}
    for dotted in NAMES:
        module, _, attr = dotted.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        items = list(obj.receivers_for(object())) if hasattr(obj, "receivers_for") else list(obj)
        out[dotted] = sorted(f"{f.__module__}.{f.__qualname__}" for f in items)
    return out


before = wired()
config = {"DATABASE_URL": "sqlite://", "SECRET_KEY": "wiring-test-secret-long-enough-for-hs256",
          "LOG_LEVEL": "WARNING"}
app.create_app(config)
first = wired()
app.create_app(config)  # tests build many apps in one process: nothing is wired twice
second = wired()
print(json.dumps({"before": before, "first": first, "second": second}))
"""


def _wiring(mode: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode, json.dumps(sorted(EXPECTED))],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_create_app_wires_every_receiver_and_source_from_app_alone():
    seen = _wiring("app")
    assert seen["first"] == EXPECTED
    assert seen["second"] == EXPECTED


def test_importing_modules_wires_nothing_and_order_does_not_matter():
    seen = _wiring("all")
    assert seen["before"] == {name: [] for name in EXPECTED}, "a module connects or registers at import time"
    assert seen["first"] == EXPECTED
    assert seen["second"] == EXPECTED
