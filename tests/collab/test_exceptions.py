"""Exception wording."""

from __future__ import annotations


def test_cover_is_said_in_words_a_planner_reads() -> None:
    from cpfr.collab.exceptions import _cover_words

    assert _cover_words(39, 0.0000073, 5_324_557.4) == (
        "39 units in the network and almost no demand forecast (< 0.05 a week)"
    )
    assert "more than two years" in _cover_words(5000, 10.0, 500.0)
    assert _cover_words(30, 10.0, 3.0) == "30 units in the network cover 3.0 weeks"
