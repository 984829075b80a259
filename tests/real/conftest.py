"""Real-cluster fixtures: one cluster per module, server logs attached to failing tests."""
import os
import shutil

import pytest

from faultlab.real import cluster as real_cluster


def servers_missing():
    missing = []
    if not os.path.exists("/usr/share/java/zookeeper.jar") or shutil.which("java") is None:
        missing.append("zookeeper")
    if shutil.which("etcd") is None:
        missing.append("etcd-server")
    return missing


def pytest_collection_modifyitems(config, items):
    missing = servers_missing()
    if not missing or os.environ.get("CI"):
        return          # in CI a missing server must fail loudly, not skip
    skip = pytest.mark.skip(reason=f"real servers not installed: apt-get install {' '.join(missing)}")
    for item in items:
        if "real" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, append the tail of every server log (open clusters and ones just closed)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "real" in item.keywords:
        parts = [f"=== {c!r} ===\n{c.log_tails(40)}" for c in list(real_cluster.LIVE)]
        for title, tails in list(real_cluster.RECENT):
            parts.append(f"=== closed {title} ===\n" + "\n".join(f"--- {n} ---\n{t}" for n, t in tails.items()))
        if parts:
            report.sections.append(("server logs", "\n".join(parts)))


@pytest.fixture(autouse=True)
def _forget_closed_clusters():
    real_cluster.RECENT.clear()
    yield
