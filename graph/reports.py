"""Graph reports as plain JSON: assemble one from a graph, compare two, scrub an erased person.

Pure (no Flask, no database): ``assemble_report`` runs ``metrics.analyse`` and
``opportunities.rank_opportunities`` on a graph that follows the contract in
``docs/analytics.md`` and returns only JSON types (str, int, float, bool, None, list,
dict), so the task stores it as is and the bench calls it on in-memory graphs.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from graph import metrics
from graph.opportunities import rank_opportunities
from graph.reasons import without_person
from purpose.relationship import PYRAMID_LEVELS

#: Format version of the report JSON (also ``graph.models.REPORT_VERSION``).
REPORT_VERSION = 1
SEGMENT_ORDER = ("heavy", "medium", "light", "lapsed", "nonuser")
#: Communities and brokers listed in a report (the counts cover all of them).
MAX_COMMUNITIES = 25
MAX_BROKERS = 25
KEY_MEMBERS = 5
#: Stages and the percent reached when each one ends (the task reports loading before them).
STAGES = {"load": 20, "metrics": 75, "opportunities": 90, "assemble": 95, "store": 100}

Progress = Callable[[str, float], None]


def _person(G, v, **extra) -> dict:
    a = G.nodes[v]
    return {"node": v, "label": a.get("label", str(v)), "kind": a.get("kind"), "segment": a.get("segment"),
            "stakeholder_id": a.get("stakeholder_id"), **extra}


def distributions(G) -> dict:
    """Counts by segment and by pyramid level (level names; ``none`` for level 0)."""
    segments = Counter(a.get("segment") or "unknown" for _, a in G.nodes(data=True))
    levels = Counter(int(a.get("pyramid_level") or 0) for _, a in G.nodes(data=True))
    names = ("none",) + tuple(PYRAMID_LEVELS)
    ordered = [s for s in SEGMENT_ORDER if s in segments] + sorted(set(segments) - set(SEGMENT_ORDER))
    return {"segments": {s: segments[s] for s in ordered},
            "pyramid": {names[i]: levels.get(i, 0) for i in range(len(names))}}


def conversion(G) -> dict:
    """Nonuser-to-member conversion among the people in scope, from node attributes."""
    nonusers = sum(1 for _, k in G.nodes(data="kind") if k == "nonuser")
    converted = [a.get("converted_at") for _, a in G.nodes(data=True)
                 if a.get("kind") == "member" and a.get("converted_at")]
    since = (G.graph.get("scope") or {}).get("since")
    in_window = sum(1 for t in converted if since is None or str(t) >= str(since))
    known = nonusers + len(converted)
    return {"nonusers": nonusers, "converted_members": len(converted), "converted_in_window": in_window,
            "rate": len(converted) / known if known else 0.0}


def customer_equity(G) -> dict:
    """Customer equity of the scope (the loader's total) and its split by segment."""
    by_segment = Counter()
    for _, a in G.nodes(data=True):
        by_segment[a.get("segment") or "unknown"] += float(a.get("clv") or 0.0)
    total = G.graph.get("customer_equity")
    return {"total": float(sum(by_segment.values()) if total is None else total),
            "clv_status": G.graph.get("clv_status"), "clv_fit": G.graph.get("clv_fit"),
            **({"holdout": G.graph["clv_holdout"]} if G.graph.get("clv_holdout") is not None else {}),
            "by_segment": {s: round(x, 2) for s, x in by_segment.items()}}


def _communities(H, analysis) -> list[dict]:
    pagerank = analysis["pagerank"]
    out = []
    for c in analysis["reach"][:MAX_COMMUNITIES]:
        members = analysis["communities"][c["index"]]
        segments = Counter(H.nodes[v].get("segment") for v in members)
        out.append({"index": c["index"], "size": c["size"], "reach": c["reach"], "reach_share": float(c["reach_share"]),
                    "segments": {s: n for s, n in segments.items() if s},
                    "key_members": [_person(H, v, pagerank=float(pagerank[v])) for v in c["key_members"]]})
    return out


def _brokers(H, analysis) -> list[dict]:
    betweenness, bridging, community_of = analysis["betweenness"], analysis["bridging"], analysis["community_of"]
    ranked = sorted(H, key=lambda v: (-betweenness[v], str(v)))[:MAX_BROKERS]
    return [_person(H, v, betweenness=float(betweenness[v]), bridging=int(bridging[v]),
                    community=int(community_of[v])) for v in ranked if betweenness[v] > 0]


def _opportunities(H, analysis, top) -> list[dict]:
    """The top ``top`` opportunities; every candidate's (rank, score) goes to ``analysis["ranking"]``."""
    analysis["ranking"] = {}
    ranked = rank_opportunities(H, core_number=analysis["core_number"], community_of=analysis["community_of"],
                                proximity=analysis["proximity"], heavy=analysis["heavy"], limit=top,
                                scores=analysis["ranking"])
    return [{"rank": i, **entry, "stakeholder_id": H.nodes[entry["node"]].get("stakeholder_id"),
             "community": int(analysis["community_of"][entry["node"]])}
            for i, entry in enumerate(ranked, start=1)]


def annotate(H, analysis) -> None:
    """Write each person's community, PageRank, betweenness, core number, opportunity rank and
    score onto ``H`` (so GraphML/GEXF exports and the report's people table carry them). Every
    candidate has a rank (1 = best) and a score; other people rank 0 with score 0."""
    ranking = analysis.get("ranking", {})
    for v, a in H.nodes(data=True):
        a["community"] = analysis["community_of"][v]
        a["pagerank"] = analysis["pagerank"][v]
        a["betweenness"] = float(analysis["betweenness"][v])
        a["core_number"] = analysis["core_number"][v]
        a["opportunity_rank"], a["opportunity_score"] = ranking.get(v, (0, 0.0))


def _account_of(node) -> int | None:
    return int(node[2:]) if isinstance(node, str) and node.startswith("a:") else None


#: The columns of a report's people table that :func:`people_rows` fills, in its tuples' order.
PEOPLE_COLUMNS = ("node", "kind", "label", "name", "external_id", "stakeholder_id", "account_id", "segment",
                  "pyramid_level", "style_preference", "community", "pagerank", "betweenness", "core_number",
                  "opportunity_rank", "opportunity_score", "clv", "purpose_alignment")


def people_rows(H) -> list[tuple]:
    """One ``report_people`` row per person of the annotated graph ``H`` (see :func:`annotate`),
    as tuples of :data:`PEOPLE_COLUMNS`."""
    rows = []
    for v, a in H.nodes(data=True):
        rank = a.get("opportunity_rank") or None
        rows.append((str(v), a.get("kind"), str(a.get("label", v))[:200], a.get("name"), a.get("external_id"),
                     a.get("stakeholder_id"), _account_of(v), a.get("segment"), int(a.get("pyramid_level") or 0),
                     a.get("style_preference"), int(a.get("community", 0)), float(a.get("pagerank", 0.0)),
                     float(a.get("betweenness", 0.0)), int(a.get("core_number", 0)), rank,
                     float(a["opportunity_score"]) if rank else None, float(a.get("clv") or 0.0),
                     float(a.get("purpose_alignment") or 0.0)))
    return rows


def assemble_report(G, *, seed: int = 0, top: int = 50, progress: Progress | None = None,
                    max_pivots: int = metrics.MAX_PIVOTS) -> dict:
    """The full report on ``G`` as plain JSON; ``progress(stage, percent)`` as stages finish."""
    return _assemble(G, seed=seed, top=top, progress=progress, max_pivots=max_pivots)[0]


def assemble_report_and_graph(G, *, seed: int = 0, top: int = 50, progress: Progress | None = None,
                              max_pivots: int = metrics.MAX_PIVOTS):
    """``(report, H)``: the report and the analysed graph ``H`` (objected people removed) that
    exports and comparisons use, annotated in place by :func:`annotate` (``H`` is ``G``
    itself when nobody objected)."""
    report, H, analysis = _assemble(G, seed=seed, top=top, progress=progress, max_pivots=max_pivots)
    annotate(H, analysis)
    return report, H


def _assemble(G, *, seed, top, progress, max_pivots):
    progress = progress or (lambda stage, percent: None)
    analysis = metrics.analyse(G, seed=seed, max_pivots=max_pivots, top=KEY_MEMBERS)
    H = analysis["graph"]
    progress("metrics", STAGES["metrics"])
    opportunities = _opportunities(H, analysis, top)
    progress("opportunities", STAGES["opportunities"])
    report = {
        "version": REPORT_VERSION,
        "scope": dict(G.graph.get("scope") or {}),
        "snapshot_at": G.graph.get("snapshot_at"),
        "params": {"seed": seed, "top": top, "max_pivots": max_pivots,
                   "half_life_days": G.graph.get("half_life_days")},
        "graph": _graph_summary(H, analysis),
        **distributions(H),
        "communities": _communities(H, analysis),
        "brokers": _brokers(H, analysis),
        "opportunities": opportunities,
        "conversion": conversion(H),
        "customer_equity": customer_equity(H),
        "notes": list(analysis["notes"]) + [
            f"Lists are cut: the {MAX_COMMUNITIES} largest communities, the top {MAX_BROKERS} brokers and "
            f"the top {top} opportunities; the counts cover everyone."],
    }
    progress("assemble", STAGES["assemble"])
    return report, H, analysis


def _graph_summary(H, analysis) -> dict:
    kinds = Counter(k for _, k in H.nodes(data="kind"))
    return {"nodes": H.number_of_nodes(), "edges": H.number_of_edges(), "members": kinds.get("member", 0),
            "nonusers": kinds.get("nonuser", 0), "heavy_users": len(analysis["heavy"]),
            "communities": len(analysis["communities"]), "modularity": float(analysis["modularity"]),
            "main_core_size": len(analysis["main_core"]),
            "max_core_number": max(analysis["core_number"].values(), default=0)}


def _is_person(entry: dict, keys: set, stakeholder_id) -> bool:
    return entry.get("node") in keys or (stakeholder_id is not None and entry.get("stakeholder_id") == stakeholder_id)


def person_keys(stakeholder_id: int | None, account_id: int | None) -> set:
    """The node keys a person may have in a graph."""
    return {k for k in (stakeholder_id and f"s:{stakeholder_id}", account_id and f"a:{account_id}") if k}


def scrub_person(report: dict, *, stakeholder_id: int | None, account_id: int | None) -> tuple[dict, bool]:
    """A copy of ``report`` without the person in any list; whether anything was removed.

    Opportunities are renumbered so the ranks stay 1..n, and no remaining reason names the person.
    """
    keys, changed = person_keys(stakeholder_id, account_id), False
    out = dict(report)

    def keep(entries):
        nonlocal changed
        kept = [e for e in entries if not _is_person(e, keys, stakeholder_id)]
        changed = changed or len(kept) != len(entries)
        return kept

    out["opportunities"] = [{**e, "rank": i} for i, e in enumerate(keep(report.get("opportunities", [])), start=1)]
    cleared = [without_person(e, keys, stakeholder_id) for e in out["opportunities"]]  # nor cited in a reason
    out["opportunities"] = [e for e, _ in cleared]
    changed = changed or any(c for _, c in cleared)
    out["brokers"] = keep(report.get("brokers", []))
    out["communities"] = [{**c, "key_members": keep(c.get("key_members", []))} for c in report.get("communities", [])]
    return out, changed


def _match_key(entry: dict):
    sid = entry.get("stakeholder_id")
    return ("s", sid) if sid is not None else ("n", entry["node"])


def compare_reports(older: dict, newer: dict, *, older_people=None, newer_people=None) -> dict:
    """Who moved up, who is new, who dropped out of the opportunities; who converted.

    Opportunities are matched by ``stakeholder_id`` (a nonuser ``"s:12"`` who became member
    ``"a:7"`` is the same person), else by node key. ``*_people`` map node -> (kind,
    stakeholder_id) for everyone in each graph; conversion is a stakeholder who was a
    nonuser in the older graph and is a member in the newer one.
    """
    before = {_match_key(e): e for e in older.get("opportunities", [])}
    after = {_match_key(e): e for e in newer.get("opportunities", [])}
    moved_up, moved_down, new = [], [], []
    for key, e in after.items():
        if key not in before:
            new.append({**_brief(e), "rank": e["rank"], "score": e["score"]})
            continue
        b = before[key]
        change = {**_brief(e), "old_node": b["node"], "old_rank": b["rank"], "new_rank": e["rank"],
                  "rank_change": b["rank"] - e["rank"], "old_score": b["score"], "new_score": e["score"]}
        (moved_up if change["rank_change"] > 0 else moved_down if change["rank_change"] < 0 else []).append(change)
    dropped = [{**_brief(b), "old_rank": b["rank"], "old_score": b["score"]} for key, b in before.items() if key not in after]
    moved_up.sort(key=lambda c: (-c["rank_change"], c["new_rank"]))
    return {"moved_up": moved_up, "moved_down": moved_down, "new_entries": new,
            "dropped_out": sorted(dropped, key=lambda d: d["old_rank"]),
            "converted": _converted(older_people or {}, newer_people or {})}


def _brief(entry: dict) -> dict:
    return {k: entry.get(k) for k in ("node", "label", "kind", "segment", "stakeholder_id")}


def _converted(older_people: dict, newer_people: dict) -> list[dict]:
    was_nonuser = {sid: node for node, (kind, sid) in older_people.items() if kind == "nonuser" and sid is not None}
    out = []
    for node, (kind, sid) in newer_people.items():
        if kind == "member" and sid in was_nonuser:
            out.append({"stakeholder_id": sid, "old_node": was_nonuser[sid], "new_node": node})
    return sorted(out, key=lambda c: c["stakeholder_id"])
