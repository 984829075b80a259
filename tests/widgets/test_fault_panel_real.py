"""FaultPanel on a real ZooKeeper ensemble: polling in the background, faults in a worker thread."""
import asyncio

import pytest

from faultlab.real import ZooKeeperEnsemble
from faultlab.widgets import FaultPanel

pytestmark = [pytest.mark.real, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def zk():
    with ZooKeeperEnsemble(n=3) as cluster:
        cluster.wait_for(lambda _status: cluster.leader(), timeout=60)
        yield cluster


def test_panel_polls_in_the_background_and_crashes_from_a_worker_thread(zk):
    ticks = []

    async def scenario():
        panel = FaultPanel(zk, poll=0.3)
        assert panel.network is None, "loss/latency sliders are for simulated worlds only"
        assert panel.figure_kind == "timeline"

        async def heartbeat():                  # proves the event loop never froze
            while True:
                ticks.append(asyncio.get_running_loop().time())
                await asyncio.sleep(0.05)
        beat = asyncio.get_running_loop().create_task(heartbeat())
        for _ in range(100):
            await asyncio.sleep(0.1)
            if panel.leader:
                break
        old = panel.leader
        assert old and panel.tiles[old].is_leader
        title = panel.figure.layout.title.text
        panel.tiles[old].buttons["crash"].click()        # runs in a worker thread
        for _ in range(300):
            await asyncio.sleep(0.1)
            if panel.leader not in (None, old) and panel.tiles[old].state == "crashed":
                break
        new = panel.leader
        panel.tiles[old].buttons["restart"].click()
        await asyncio.sleep(0.5)
        panel.close()
        beat.cancel()
        return panel, old, new, title

    panel, old, new, title = asyncio.run(scenario())
    assert new not in (None, old), f"no new leader after crashing {old}"
    assert [e[1] for e in panel.events if e[2]][:2] == [f"crash {old}", f"restart {old}"]
    assert any(r.kind == "crash" and r.node == old for r in zk.trace)
    assert panel.figure.layout.title.text != title
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 1.0, f"the event loop stalled for {max(gaps):.2f} s"


def test_without_an_event_loop_status_is_polled_on_demand(zk):
    panel = FaultPanel(zk)
    assert panel.leader == zk.leader()
    panel.partition.set({"n1": "B"})
    panel.partition.apply_button.click()
    last = panel.events[-1][1]
    assert last.startswith("partition n2,n3 | n1") or last.startswith("could not partition")
    panel.partition.heal_button.click()
    panel.close()
