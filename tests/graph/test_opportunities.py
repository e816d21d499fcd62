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
    assert entry["reasons"][:2] == [f"exchanged replies with 4 heavy users in {SPACE}: Heavy 1; Heavy 2; Heavy 3 and 1 more",
                                    f"came to events with 1 heavy user in {SPACE}: Heavy 1"]
    assert "never posted" in entry["reasons"]
    assert "came to 2 events" in entry["reasons"]
    assert "strongly aligned with the purpose (0.90)" in entry["reasons"]
    assert "active 2 days ago" in entry["reasons"]
    assert not any("bridges" in r for r in entry["reasons"])
    nonuser = _ranked(_community())["s:7"]
    assert nonuser["reasons"][:2] == [f"linked by referral to 1 heavy user in {SPACE}: Heavy 5", "not a member yet"]


def test_reasons_name_the_heavy_users_events_threads_and_purpose_they_count():
    G = _community()
    G.graph.update(purposes={"3": "Clean Oceans"}, threads={"41": {"space": SPACE, "title": "Beach day?"}})
    G.nodes["a:h1"].update(handle="heavy_one")
    G.add_node("s:55", **_person(kind="nonuser", segment="heavy", external_id="crm-55", stakeholder_id=55))
    G.add_node("s:56", **_person(kind="nonuser", segment="heavy", stakeholder_id=56))
    G.add_edge("s:7", "s:55", weight=1.0, kinds={"referral": 1})
    G.add_edge("s:7", "s:56", weight=0.7, kinds={"referral": 1})
    G.nodes["a:light"].update(aligned_purpose_id=3, event_refs=["beach-day", "spring-fair"])
    G.edges["a:light", "a:h1"].update(events=["beach-day"])
    entry = _ranked(G)["a:light"]
    by_type = {}
    for e in entry["evidence"]:
        by_type.setdefault(e["type"], []).append(e)
    assert [e["text"] for e in entry["evidence"]] == entry["reasons"]  # one evidence per sentence, same order
    events = next(e for e in by_type["heavy_users"] if e["edge_kind"] == "co_event")
    assert events["text"] == f"came to events with 1 heavy user in {SPACE}: Heavy 1 (@heavy_one) at beach-day"
    assert events["events"] == ["beach-day"] and events["count"] == 1
    (cited,) = events["heavy_users"]
    assert (cited["node"], cited["name"], cited["handle"], cited["events"]) == ("a:h1", "Heavy 1", "heavy_one", ["beach-day"])
    assert cited["weight"] == 2.0 and cited["interactions"] == 1
    replies = next(e for e in by_type["heavy_users"] if e["edge_kind"] == "reply")
    assert {p["node"] for p in replies["heavy_users"]} == {"a:h1", "a:h2", "a:h3", "a:h4"} and replies["count"] == 4
    assert by_type["events"][0]["events"] == ["beach-day", "spring-fair"]
    assert "came to 2 events: beach-day, spring-fair" in entry["reasons"]
    assert by_type["purpose"][0]["purpose"] == {"id": 3, "name": "Clean Oceans"}
    assert "strongly aligned with Clean Oceans (0.90)" in entry["reasons"]
    for heavy in ("a:h1", "a:h2", "a:h3"):  # now 3 heavy users in thread 41: more than the 1 at events
        G.edges["a:light", heavy].update(kinds={**G.edges["a:light", heavy]["kinds"], "co_thread": 1}, threads=[41])
    together = next(e for e in _ranked(G)["a:light"]["evidence"] if e.get("edge_kind") == "co_thread")
    assert together["threads"] == [{"id": 41, "space": SPACE, "title": "Beach day?"}]
    assert 'Heavy 1 (@heavy_one) in thread #41 "Beach day?" in Ocean Clean-up' in together["text"]
    referred = _ranked(G)["s:7"]
    by_id, without_id, member = referred["evidence"][0]["heavy_users"]  # strongest tie first
    assert (by_id["name"], by_id["external_id"], by_id["stakeholder_id"]) == ("crm-55", "crm-55", 55)
    assert (without_id["name"], member["node"]) == ("nonuser #56", "a:h5")
    assert referred["reasons"][0] == (f"linked by referral to 3 heavy users in {SPACE}: "
                                      "crm-55 (external id, stakeholder #55); nonuser #56; Heavy 5")


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


def _nonuser(**extra):
    return _person(kind="nonuser", segment="nonuser", level=0, **{"purpose_alignment": 0.0, "clv": 0.0, **extra})


@pytest.mark.parametrize("signal", ["tie_to_heavy", "tie_to_anyone", "event", "declared_purpose", "spend"])
def test_a_nonuser_without_any_signal_never_outranks_one_with_any(signal):
    """Only a recent touchpoint and levels to climb: such a nonuser scores 0, below one with any one signal."""
    G = _community()
    G.add_node("s:bare", **_nonuser(days_since_activity=0.0))  # as recent as can be, and nothing else
    G.add_node("s:some", **_nonuser(days_since_activity=400.0, **{
        "event": {"events": 1}, "declared_purpose": {"purpose_alignment": 0.6}, "spend": {"rfm": {"monetary": 5.0}},
    }.get(signal, {})))
    if signal == "tie_to_heavy":
        G.add_edge("s:some", "a:h3", weight=0.01, kinds={"co_event": 1})
    if signal == "tie_to_anyone":
        G.add_edge("s:some", "s:7", weight=0.01, kinds={"invitation": 1})
    ranked = _ranked(G)
    assert ranked["s:bare"]["score"] == 0.0 and ranked["s:some"]["score"] > 0.0
    order = list(ranked)
    assert order.index("s:some") < order.index("s:bare")


def test_spend_counts_for_nonusers_when_no_clv_was_fitted():
    G = _community()
    for v in G:
        G.nodes[v]["clv"] = 0.0
    G.add_node("s:buyer", **_nonuser(rfm={"recency": 30.0, "frequency": 2, "monetary": 80.0}))
    G.add_edge("s:buyer", "a:h5", weight=0.5, kinds={"referral": 1})
    ranked = _ranked(G)
    assert ranked["s:buyer"]["contributions"]["value"] == pytest.approx(opp.FEATURE_WEIGHTS["value"])
    assert ranked["s:buyer"]["score"] > ranked["s:7"]["score"]  # same tie, same referral; one also buys


def test_a_shared_declared_interest_alone_is_no_tie_to_a_heavy_user():
    """Declaring the same tag as a heavy user counts once, in alignment; it is not a relationship."""
    G = _community()
    G.add_node("a:tagged", **_person())
    G.add_edge("a:tagged", "a:h1", weight=1.0, kinds={"shared_purpose": 1})
    G.add_node("a:talked", **_person())
    G.add_edge("a:talked", "a:h1", weight=1.0, kinds={"shared_purpose": 1, "reply": 1})
    ranked = _ranked(G, community_of={v: i for i, v in enumerate(G)})
    assert ranked["a:tagged"]["contributions"]["heavy_ties"] == 0.0
    assert ranked["a:talked"]["contributions"]["heavy_ties"] > 0.0
