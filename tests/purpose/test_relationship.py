"""Relationship metrics on plain data: RFM and segments, Pareto share, pyramid, style."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from purpose.relationship import (
    PYRAMID_LEVELS, Person, pareto_share, pyramid_position, quintile_scores, relationship_style, rfm,
)

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def test_quintile_scores_split_ten_values_into_pairs_and_ties_share_a_score():
    assert quintile_scores({i: float(i) for i in range(10)}) == {i: 1 + i // 2 for i in range(10)}
    tied = quintile_scores({1: 5.0, 2: 5.0, 3: 5.0, 4: 9.0, 5: 1.0})
    assert tied[1] == tied[2] == tied[3] and tied[4] > tied[1] > tied[5]
    # The order of the input does not matter.
    assert quintile_scores(dict(reversed(list({1: 3.0, 2: 1.0, 3: 2.0}.items())))) == quintile_scores({1: 3.0, 2: 1.0, 3: 2.0})


def test_rfm_values_scores_and_segments():
    heavy = Person(1, is_member=True, purchases=tuple((days_ago(d), 80.0) for d in (3, 20, 40, 60, 90)))
    medium = Person(2, is_member=True, purchases=((days_ago(10), 40.0), (days_ago(50), 30.0)))
    light_buyer = Person(3, purchases=((days_ago(30), 5.0),))
    lapsed = Person(4, purchases=tuple((days_ago(d), 100.0) for d in (400, 500, 600)))
    member_no_purchase = Person(5, is_member=True)
    nonuser = Person(6)
    occasional = [Person(i, purchases=((days_ago(20 + i), 5.0),)) for i in range(7, 11)]
    result = rfm([heavy, medium, light_buyer, lapsed, member_no_purchase, nonuser, *occasional], NOW)
    assert result[1].recency_days == pytest.approx(3) and result[1].frequency == 5 and result[1].monetary == 400
    assert result[1].r_score == 5 and result[4].r_score == 1
    assert {k: v.segment for k, v in result.items() if k <= 6} == {
        1: "heavy", 2: "medium", 3: "light", 4: "lapsed", 5: "light", 6: "nonuser"}
    assert (result[6].frequency, result[6].r_score, result[6].recency_days) == (0, 0, None)


@pytest.mark.parametrize(
    "amounts, expected",
    [([100] + [1] * 9, 101 / 109), ([10] * 10, 0.2), ([5], 1.0), ([], 0.0), ([0, 0], 0.0), ([3, -2, 1], 0.75)],
)
def test_pareto_share(amounts, expected):
    assert pareto_share(amounts) == pytest.approx(expected)


def test_rfm_runs_each_loop_over_people_through_the_pace_its_caller_passes():
    """How a web process lets its event loop run between two people (core.cooperative.paced),
    without this module importing the platform (issue 21)."""
    people = [Person(1, purchases=((days_ago(3), 10.0),)), Person(2, is_member=True), Person(3)]
    seen = []

    def pace(items):
        for item in items:
            seen.append(item)
            yield item

    assert rfm(people, NOW, pace=pace) == rfm(people, NOW, pace=iter)
    assert seen.count(people[0]) >= 2 and seen.count(people[1]) >= 1 and seen.count(people[2]) >= 1


#: The pure analysis modules, meant to be reusable from a notebook: they may import each other
#: (and numpy, scipy, networkx), nothing of the platform.
PURE = ("purpose.relationship", "purpose.clv", "graph.metrics", "graph.opportunities")
PURE_PACKAGES = {"purpose", "graph", "graph.reasons", *PURE}
PLATFORM = ("app", "core", "community", "graph", "purpose", "flask", "flask_sqlalchemy", "sqlalchemy", "gevent",
            "celery", "marshmallow")


def test_the_analysis_modules_import_nothing_of_the_platform():
    loaded = subprocess.run(
        [sys.executable, "-c", f"import json, sys\nimport {', '.join(PURE)}\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=True).stdout
    platform = {m for m in json.loads(loaded) if m.split(".")[0] in PLATFORM} - PURE_PACKAGES
    assert not platform, f"imported by {PURE}: {sorted(platform)}"


def test_pareto_share_rejects_a_nonsense_fraction():
    with pytest.raises(ValueError):
        pareto_share([1, 2], top=0)


def test_a_level_counts_only_when_every_level_below_is_met():
    # Posts and co-creates a lot but has never bought or used anything: level 0.
    enthusiast = Person(1, posts=20, co_creations=5, recognitions_received=10)
    position = pyramid_position(enthusiast, NOW)
    assert (position.level, position.name, position.next_name) == (0, None, "utility")
    assert position.to_next == ["buy or use something once"]


def test_pyramid_climbs_level_by_level_with_the_next_step_named():
    base = dict(is_member=True, purchases=((days_ago(200), 10.0), (days_ago(100), 10.0)), first_seen=days_ago(200))
    assert pyramid_position(Person(1, **base), NOW).next_name == "recognition"
    recognised = pyramid_position(Person(2, recognitions_received=3, **base), NOW)
    assert (recognised.name, recognised.next_name, recognised.to_next) == (
        "recognition", "self_expression", ["post 3 times in the community"])
    top = pyramid_position(Person(3, recognitions_received=3, posts=3, referrals=1, **base), NOW)
    assert (top.level, top.name, top.next_name, top.to_next) == (6, "co_creation", None, [])
    assert len(PYRAMID_LEVELS) == 6


def test_subscription_counts_as_convenience_without_a_second_purchase():
    person = Person(1, purchases=((days_ago(10), 9.0),), has_structural_tie=True)
    assert pyramid_position(person, NOW).name == "convenience"


def test_style_from_tenure_and_rhythm():
    monthly = tuple(days_ago(30 * i) for i in range(15))
    assert relationship_style(Person(1, contacts=monthly, first_seen=days_ago(450), has_structural_tie=True), NOW) == "marriage"
    assert relationship_style(Person(2, contacts=monthly, first_seen=days_ago(450)), NOW) == "friendship"
    assert relationship_style(Person(3, contacts=(days_ago(5), days_ago(2)), first_seen=days_ago(5)), NOW) == "fling"
    assert relationship_style(Person(4), NOW) == "fling"


def test_declared_style_overrides_behaviour():
    monthly = tuple(days_ago(30 * i) for i in range(15))
    loyal = dict(contacts=monthly, first_seen=days_ago(450), has_structural_tie=True)
    assert relationship_style(Person(1, declared_style="fling", **loyal), NOW) == "fling"
    assert relationship_style(Person(2, declared_style="none", **loyal), NOW) == "none"
    with pytest.raises(ValueError):
        relationship_style(Person(3, declared_style="situationship"), NOW)


@pytest.mark.parametrize(
    "person, purpose, interactions, expected",
    [
        (["ocean-cleanup", "plastic-free"], ["Ocean-Cleanup", "plastic-free"], 10, 1.0),
        ([], ["ocean-cleanup"], 0, 0.0),
        (["ocean-cleanup"], ["ocean-cleanup", "plastic-free"], 0, 0.3),
        ([], ["ocean-cleanup"], 5, 0.2),  # never said so, but takes part
        (["fitness"], [], 20, 0.4),  # a purpose without tags aligns by behaviour only
        (["cooking"], ["ocean-cleanup"], 40, 0.4),  # behaviour is capped at fully engaged
    ],
)
def test_purpose_alignment(person, purpose, interactions, expected):
    from purpose.relationship import purpose_alignment

    assert purpose_alignment(person, purpose, interactions=interactions) == pytest.approx(expected)


def test_purpose_alignment_refuses_negative_counts():
    from purpose.relationship import purpose_alignment

    with pytest.raises(ValueError):
        purpose_alignment([], ["a"], interactions=-1)
