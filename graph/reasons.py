"""Reasons of a ranked opportunity, each a sentence and the evidence behind it (pure, no database).

An analyst must be able to check a reason by hand, so every reason names what it counts:
the heavy users (members by display name and handle, nonusers by external id), the events
(by their ``event_ref``), the threads (by id, with their space, and their title in public
spaces), the purpose, with the numbers. :func:`reasons_with_evidence` returns the sentences
and, in the same order, the evidence as plain JSON (``docs/analytics.md``, "Reasons").
Names come from the graph contract: node ``label``, ``handle``, ``external_id``,
``event_refs``, ``aligned_purpose_id``; edge ``events`` and ``threads``; graph ``purposes``
and ``threads``.
"""

from __future__ import annotations

from collections import Counter

KIND_PHRASES = {"reply": "exchanged replies with", "mention": "mentioned together with",
                "reaction": "traded reactions with", "co_thread": "in the same threads as",
                "referral": "linked by referral to", "invitation": "linked by invitation to",
                "co_event": "came to events with", "shared_purpose": "shares a purpose with"}
#: Heavy users named in a sentence, and listed in a reason's evidence (strongest ties first).
NAMED_IN_TEXT = 3
LISTED_IN_EVIDENCE = 10
#: Alignment from which it is given as a reason.
STRONG_ALIGNMENT = 0.7


def person_ref(G, u) -> dict:
    """Who ``u`` is, for staff: node, kind, account or stakeholder id, and a name to look them up by."""
    a = G.nodes[u]
    key, _, number = str(u).partition(":")
    out = {"node": u, "kind": a.get("kind"), "stakeholder_id": a.get("stakeholder_id"),
           "external_id": a.get("external_id")}
    if key == "a":
        out.update(account_id=int(number) if number.isdigit() else None, name=a.get("label"), handle=a.get("handle"))
    else:
        out["name"] = a.get("name") or a.get("external_id") or f"nonuser #{number}"
    return out


def _say(person: dict) -> str:
    if person.get("handle"):
        return f"{person['name']} (@{person['handle']})"
    if person["kind"] == "nonuser" and person["name"] == person.get("external_id"):
        return f"{person['name']} (external id, stakeholder #{person['stakeholder_id']})"
    return str(person["name"])


def _thread_ref(G, tid) -> dict:
    known = (G.graph.get("threads") or {}).get(str(tid)) or {}
    return {"id": int(tid), "space": known.get("space"), "title": known.get("title")}


def _say_thread(thread: dict) -> str:
    where = f" in {thread['space']}" if thread["space"] else ""
    return f"thread #{thread['id']}" + (f" \"{thread['title']}\"" if thread["title"] else "") + where


def _heavy_reason(G, kind: str, edges: list, space: str) -> tuple[str, dict]:
    """One edge kind shared with heavy users: who, where, how strong."""
    edges = sorted(edges, key=lambda ud: (-ud[1].get("weight", 0.0), str(ud[0])))
    people = []
    for u, d in edges[:LISTED_IN_EVIDENCE]:
        person = {**person_ref(G, u), "weight": float(d.get("weight", 0.0)), "interactions": int(d["kinds"][kind])}
        if kind == "co_event":
            person["events"] = list(d.get("events") or [])
        if kind == "co_thread":
            person["threads"] = [_thread_ref(G, t) for t in d.get("threads") or []]
        people.append(person)
    evidence = _with_union({"type": "heavy_users", "edge_kind": kind, "count": len(edges), "space": space,
                            "heavy_users": people})
    return heavy_sentence(evidence), evidence


def _with_union(evidence: dict) -> dict:
    """The evidence with the union of its heavy users' ``events`` or ``threads``, in order of mention."""
    for field in {"co_event": "events", "co_thread": "threads"}.get(evidence["edge_kind"], "").split():
        union = []
        for person in evidence["heavy_users"]:
            union += [x for x in person.get(field) or [] if x not in union]
        evidence[field] = union
    return evidence


def heavy_sentence(evidence: dict) -> str:
    """The sentence of a ``heavy_users`` evidence, from its fields alone."""
    named = []
    for person in evidence["heavy_users"][:NAMED_IN_TEXT]:
        detail = (f" at {', '.join(person['events'])}" if person.get("events") else
                  f" in {', '.join(_say_thread(t) for t in person['threads'])}" if person.get("threads") else "")
        named.append(_say(person) + detail)
    n, kind = evidence["count"], evidence["edge_kind"]
    more = f" and {n - len(named)} more" if n > len(named) else ""
    return (f"{KIND_PHRASES.get(kind, kind + ' with')} {n} heavy user{'s' if n != 1 else ''} in {evidence['space']}: "
            f"{'; '.join(named)}{more}")


def without_person(entry: dict, keys: set, stakeholder_id=None) -> tuple[dict, bool]:
    """An opportunity whose evidence no longer cites the person (node keys ``keys`` or that stakeholder):
    they leave the heavy users named, the counts and sentences are rewritten, a reason left with no
    one is dropped. For erasure (``graph.reports.scrub_person``)."""
    def cited(person):
        return person["node"] in keys or (stakeholder_id is not None and person.get("stakeholder_id") == stakeholder_id)

    evidence, changed = [], False
    for item in entry.get("evidence") or []:
        gone = [p for p in item.get("heavy_users", []) if cited(p)]
        if gone:
            changed = True
            item = _with_union({**item, "count": item["count"] - len(gone),
                                "heavy_users": [p for p in item["heavy_users"] if not cited(p)]})
            if item["count"] <= 0:
                continue
            item["text"] = heavy_sentence(item)
        evidence.append(item)
    if not changed:
        return entry, False
    return {**entry, "evidence": evidence, "reasons": [e["text"] for e in evidence]}, True


def _activity_reasons(a: dict) -> list[tuple[str, dict]]:
    out = []
    if a.get("kind") == "nonuser":
        out.append(("not a member yet", {"type": "membership", "member": False}))
    else:
        posts = int(a.get("posts") or 0)
        out.append(("never posted" if not posts else f"posted {posts} time{'s' if posts != 1 else ''}",
                    {"type": "posts", "count": posts}))
    events = int(a.get("events") or 0)
    if events:
        refs = list(a.get("event_refs") or [])
        named = f": {', '.join(refs)}" + (f" (the latest {len(refs)})" if len(refs) < events else "") if refs else ""
        out.append((f"came to {events} event{'s' if events != 1 else ''}{named}",
                    {"type": "events", "count": events, "events": refs}))
    return out


def _purpose_reason(G, a: dict):
    alignment = float(a.get("purpose_alignment") or 0.0)
    if alignment < STRONG_ALIGNMENT:
        return None
    pid = a.get("aligned_purpose_id")
    name = (G.graph.get("purposes") or {}).get(str(pid)) if pid is not None else None
    purpose = {"id": pid, "name": name} if pid is not None else None
    return (f"strongly aligned with {name or 'the purpose'} ({alignment:.2f})",
            {"type": "purpose", "purpose": purpose, "alignment": alignment})


def _recency_reason(a: dict):
    days = a.get("days_since_activity")
    if days is None:
        return None
    text = ("active today" if days < 1 else f"active {days:.0f} days ago" if days <= 30
            else f"inactive for {days:.0f} days")
    return text, {"type": "recency", "days_since_activity": float(days)}


def reasons_with_evidence(G, v, *, heavy_edges, space, bridging=0) -> tuple[list[str], list[dict]]:
    """Sentences and their evidence, in this order: the two edge kinds shared with the most heavy
    users (naming them, and the events or threads), membership or posts, events, bridging, purpose,
    recency. Each evidence dict has a ``type`` and repeats its sentence as ``text``."""
    a = G.nodes[v]
    by_kind: dict = {}
    for u, d in heavy_edges:
        for kind, c in (d.get("kinds") or {}).items():
            if c > 0:
                by_kind.setdefault(kind, []).append((u, d))
    order = list(KIND_PHRASES)
    people = Counter({kind: len(edges) for kind, edges in by_kind.items()})
    top = sorted(people.items(), key=lambda kv: (-kv[1], order.index(kv[0]) if kv[0] in order else 99))[:2]
    found = [_heavy_reason(G, kind, by_kind[kind], space) for kind, _ in top]
    found += _activity_reasons(a)
    if bridging >= 2:
        found.append((f"bridges {bridging} communities", {"type": "bridging", "count": int(bridging)}))
    found += [r for r in (_purpose_reason(G, a), _recency_reason(a)) if r]
    return [text for text, _ in found], [{**evidence, "text": text} for text, evidence in found]
