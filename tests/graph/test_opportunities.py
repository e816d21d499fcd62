"""graph/opportunities.py on a small handmade community (pure: no app, no database)."""

import networkx as nx
import pytest

from graph import opportunities as opp
from purpose.relationship import PYRAMID_LEVELS, STYLES

SPACE = "Ocean Clean-up"


def _person(kind="member", segment="light", level=1, style=None, **extra):
    attrs = {"kind": kind, "segment": segment, "pyramid_level": level, "style_preference": style,
             "objected": False, "purpose_alignment": 0.5, "days_since_activity": 10.0, "clv": 50.0,
             "posts": 0, "events": 0, "spaces": [SPACE] if kind == "member" else [], "label": "x"}
    return {**attrs, **extra}


def _community():
    G = nx.Graph()
    for i in range(1, 6):
        G.add_node(f"a:h{i}", **_person(segment="heavy", level=5, posts=40, label=f"Heavy {i}"))
    G.add_edges_from(nx.complete_graph([f"a:h{i}" for i in range(1, 6)]).edges, weight=3.0, kinds={"reply": 5})
    G.add_node("a:light", **_person(level=3, events=2, purpose_alignment=0.9, days_since_activity=2.0, label="Lee"))
    for i in range(1, 5):
        G.add_edge("a:light", f"a:h{i}", weight=2.0, kinds={"reply": 2, **({"co_event": 1} if i == 1 else {})})
    G.add_node("s:7", **_person(kind="nonuser", segment="nonuser", level=0, days_since_activity=None, label="Sam"))
    G.add_edge("s:7", "a:h5", weight=0.5, kinds={"referral": 1})
    G.add_node("a:fling", **_person(level=5, style="fling", posts=4))
    G.add_node("a:marriage", **_person(level=5, style="marriage", posts=4))
    G.add_node("a:undeclared", **_person(level=5, posts=4))
    for v in ("a:fling", "a:marriage", "a:undeclared"):
        G.add_edge(v, "a:h2", weight=1.0, kinds={"mention": 1})
    G.add_node("a:objector", **_person(objected=True, purpose_alignment=1.0))
    G.add_node("a:no_contact", **_person(style="none", purpose_alignment=1.0))
    G.add_node("a:medium", **_person(segment="medium"))
    for v in ("a:objector", "a:no_contact", "a:medium"):
        G.add_edges_from([(v, "a:h1"), (v, "a:h2"), (v, "a:h3")], weight=5.0, kinds={"reply": 9})
    return G


def _ranked(G, **options):
    return {e["node"]: e for e in opp.rank_opportunities(G, limit=None, **options)}


def test_only_light_lapsed_and_nonusers_who_allow_contact_are_ranked():
    ranked = _ranked(_community())
    assert set(ranked) == {"a:light", "s:7", "a:fling", "a:marriage", "a:undeclared"}


def test_objected_heavy_users_do_not_count_as_ties():
    G = _community()
    G.add_node("a:lonely", **_person())
    G.add_edge("a:lonely", "a:h5", weight=4.0, kinds={"reply": 4})
    G.nodes["a:h5"]["objected"] = True
    ranked = _ranked(G)
    assert ranked["a:lonely"]["contributions"]["heavy_ties"] == 0.0
    assert not any("heavy user" in r for r in ranked["a:lonely"]["reasons"])


def test_reasons_mention_the_right_counts():
    entry = _ranked(_community(), community_of={v: 0 for v in _community()})["a:light"]
    assert entry["reasons"][:2] == [f"exchanged replies with 4 heavy users in {SPACE}",
                                    f"came to events with 1 heavy user in {SPACE}"]
    assert "never posted" in entry["reasons"]
    assert "came to 2 events" in entry["reasons"]
    assert "strongly aligned with the purpose (0.90)" in entry["reasons"]
    assert "active 2 days ago" in entry["reasons"]
    assert not any("bridges" in r for r in entry["reasons"])
    nonuser = _ranked(_community())["s:7"]
    assert nonuser["reasons"][:2] == [f"linked by referral to 1 heavy user in {SPACE}", "not a member yet"]


def test_bridging_reason_counts_neighbouring_communities():
    G = _community()
    community_of = {v: 0 for v in G} | {"a:h2": 1, "a:h3": 2}
    assert "bridges 3 communities" in _ranked(G, community_of=community_of)["a:light"]["reasons"]


def test_suggested_action_matches_the_next_level():
    ranked = _ranked(_community())
    assert ranked["a:light"]["next_level"] == "recognition"
    assert ranked["a:light"]["suggested_action"].startswith("recognise:")
    assert ranked["s:7"]["next_level"] == "utility"
    assert ranked["s:7"]["suggested_action"].startswith("show the value")
    assert ranked["a:marriage"]["suggested_action"].startswith("invite to co-create")
    assert SPACE in ranked["a:marriage"]["suggested_action"]


def test_contact_preference_caps_the_action():
    ranked = _ranked(_community())
    assert ranked["a:marriage"]["action_intensity"] == 3 and not ranked["a:marriage"]["action_capped"]
    assert ranked["a:fling"]["action_intensity"] == 1 and ranked["a:fling"]["action_capped"]
    assert ranked["a:fling"]["suggested_action"].startswith("light touch")
    assert "co-create" not in ranked["a:fling"]["suggested_action"]
    assert ranked["a:undeclared"]["action_intensity"] == 2 and ranked["a:undeclared"]["action_capped"]
    for level in (*PYRAMID_LEVELS, None):
        for style in ("fling", "friendship", "marriage", None):
            intensity, _, _ = opp.suggest_action(level, style)
            assert 1 <= intensity <= opp.CONTACT_CAP[style]
    with pytest.raises(ValueError):
        opp.suggest_action("utility", "none")
    assert set(STYLES) <= set(opp.CONTACT_CAP)


def test_scores_are_ordered_contributions_sum_and_ties_break_by_key():
    G = _community()
    for v in ("a:zz", "a:aa"):
        G.add_node(v, **_person())
    entries = opp.rank_opportunities(G, limit=None)
    scores = [e["score"] for e in entries]
    assert scores == sorted(scores, reverse=True)
    assert entries[0]["node"] == "a:light"
    for e in entries:
        assert e["score"] == pytest.approx(sum(e["contributions"].values()))
        assert type(e["score"]) is float
    order = [e["node"] for e in entries]
    assert order.index("a:aa") < order.index("a:zz")
    assert [e["node"] for e in opp.rank_opportunities(G, limit=2)] == order[:2]
    assert sum(opp.FEATURE_WEIGHTS.values()) == pytest.approx(1.0)


def test_weights_override_changes_the_ranking():
    G = _community()
    only_value = {f: 0.0 for f in opp.FEATURE_WEIGHTS} | {"value": 1.0}
    G.nodes["s:7"]["clv"] = 5000.0
    assert opp.rank_opportunities(G, weights=only_value, limit=1)[0]["node"] == "s:7"
