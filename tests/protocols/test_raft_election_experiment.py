"""The leader-crash experiment: data per seed, a figure, and the timeout-range effect it shows."""
import pytest

from faultlab import ConfigError
from faultlab.experiments import ElectionData, election_figure, election_times


def test_a_narrow_timeout_range_splits_votes_and_slows_elections():
    wide = election_times(5, (150, 300), seeds=range(25))
    narrow = election_times(5, (150, 151), seeds=range(25))
    assert len(wide.times) == len(narrow.times) == 25
    # every run had a leader to crash: the figures measure real failovers, not empty runs
    assert all(wide.crashed) and all(narrow.crashed)
    assert wide.summary()["not_crashed"] == narrow.summary()["not_crashed"] == 0
    assert all(t is not None and 0 < t < 1000 for t in wide.times)
    assert sum(narrow.split_votes) > 5 * max(1, sum(wide.split_votes))
    assert narrow.summary()["median_ms"] > 3 * wide.summary()["median_ms"]


def test_a_run_without_a_first_leader_is_marked_not_crashed():
    """An election timeout longer than the whole wait: nobody stands, so there is no leader to
    crash, and the data says so instead of counting it as a slow failover."""
    data = election_times(3, (60_000, 60_001), seeds=[0])
    assert data.crashed == [False] and data.times == [None]
    assert data.summary()["not_crashed"] == 1


def test_the_experiment_is_deterministic_per_seed():
    a = election_times(3, seeds=[4, 5])
    b = election_times(3, seeds=[4, 5])
    assert (a.times, a.split_votes) == (b.times, b.split_votes)


def test_the_figure_is_an_ecdf_in_ms(capsys):
    data = election_times(3, seeds=range(5), progress=True)
    assert "elections" in capsys.readouterr().err           # the tqdm bar
    fig = election_figure(data)
    (line,) = fig.data
    assert list(line.x) == sorted(data.elected) and line.y[-1] == pytest.approx(1.0)
    assert "(ms)" in fig.layout.xaxis.title.text and "median" in line.name


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=1), "at least 2 servers"),
    (dict(seeds=[]), "at least one seed"),
    (dict(timeout_range=(0, 10)), "positive"),
    (dict(timeout_range=(300, 150)), "reversed"),
    (dict(timeout_range="fast"), "range in ms"),
])
def test_bad_input_is_explained(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        election_times(**kwargs)


def test_the_figure_wants_election_data():
    with pytest.raises(ConfigError, match="ElectionData"):
        election_figure([1, 2, 3])
    assert isinstance(election_times(3, seeds=[1]), ElectionData)
