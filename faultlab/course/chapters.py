"""The map of the course: one chapter per section of the article it follows.

A chapter is *available* when its notebook exists in the repository and
*coming* otherwise, so the map never shows a broken link; the test in
tests/notebooks/ checks that every notebook in notebooks/ appears here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# The article has no title line of its own; it is named here by the phrase its introduction uses.
ARTICLE = ("分布式系统的故障恢复原理和实践 (\"the principles and practice of fault recovery in "
           "distributed systems\"), a Chinese overview article in eight sections")
OUTLINE = (
    ("1", "Background", "why distributed systems are worth their failures; hardware, software and "
                        "network faults"),
    ("2", "Core concepts", "fault tolerance, consistency, scalability, high availability, and how they relate"),
    ("3", "Algorithms", "primary–backup replication, Paxos, Raft, two- and three-phase commit"),
    ("4", "Best practice", "ZooKeeper, etcd and Consul as coordination services"),
    ("5", "Application scenarios", "cloud computing, big data, IoT, finance"),
    ("6", "Tools and resources", "(left empty by the article: the course fills it)"),
    ("7", "Summary and outlook", "faster recovery; availability and consistency under large-scale failures"),
    ("8", "FAQ", "what fault recovery is, why it is needed, how it is done, what is hard"),
)


@dataclass(frozen=True)
class Chapter:
    section: str        # the article's section number, e.g. "3"
    path: str           # relative to notebooks/
    title: str
    about: str

    @property
    def available(self):
        return (NOTEBOOKS / self.path).is_file()


CHAPTERS = (
    Chapter("—", "00_start_here.ipynb", "Start here", "what the course is, how to use it, this machine"),
    Chapter("1", "01_background.ipynb", "Background",
            "why nodes and networks fail (hardware, software, network) and what recovery means"),
    Chapter("2", "02_core_concepts.ipynb", "Core concepts",
            "fault tolerance 容错性, consistency 一致性, scalability 可扩展性, high availability 高可用性"),
    Chapter("3a", "03a_primary_backup.ipynb", "Primary–backup replication 主备复制",
            "one primary, backups, failover — and the split brain it can cause"),
    Chapter("3b", "03b_paxos.ipynb", "Paxos", "consensus 共识 with proposers and acceptors; Multi-Paxos"),
    Chapter("3c", "03c_raft.ipynb", "Raft",
            "terms, election, log replication, commitment, safety — under crashes, partitions, pauses"),
    Chapter("3d", "03d_two_three_phase_commit.ipynb", "2PC and 3PC 两阶段/三阶段提交",
            "distributed transactions: atomic commit, blocking, and what 3PC does (not) fix"),
    Chapter("4", "04_practice_zookeeper_etcd.ipynb", "Practice: ZooKeeper, etcd (and Consul)",
            "real 3-node clusters: znodes, leases, watches, elections, locks, fencing tokens"),
    Chapter("5", "05_scenarios.ipynb", "Application scenarios",
            "cloud, big data, IoT, finance: which failures matter and which recovery fits"),
    Chapter("6", "06_tools.ipynb", "Tools and resources",
            "Jepsen-style testing, linearizability checkers, chaos tools, papers to read"),
    Chapter("7", "07_outlook.ipynb", "Summary and outlook",
            "large-scale failures, fast recovery, open problems"),
    Chapter("8", "08_faq.ipynb", "FAQ", "what fault recovery is, why, how, what is hard"),
    Chapter("lab", "../labs/lab01_raft_election.ipynb", "Lab 1: Raft leader election",
            "write the election handlers yourself; graded by check cells"),
    Chapter("extra", "extras/raft_fault_panel.ipynb", "A Raft cluster you can break",
            "the fault panel on its own, to play with"),
)


def course_map():
    """``[(chapter, available)]`` in course order."""
    return [(c, c.available) for c in CHAPTERS]


def course_map_markdown():
    """The map as a Markdown table: working relative links for available chapters, *coming* otherwise."""
    rows = ["| § | chapter | what you do there | status |", "|---|---|---|---|"]
    for c, ok in course_map():
        name = f"[{c.title}]({c.path})" if ok else c.title
        rows.append(f"| {c.section} | {name} | {c.about} | {'available' if ok else '*coming*'} |")
    return "\n".join(rows)


def article_markdown():
    """Which article the course follows, and its outline, as Markdown (shown above the map)."""
    lines = [f"The course follows one article: {ARTICLE}. Its outline, section by section:", ""]
    lines += [f"{n}. **{title}** — {about}" for n, title, about in OUTLINE]
    lines += ["", "Section 3 is long, so the course splits it into 3a–3d (one algorithm each)."]
    return "\n".join(lines)


def show_course_map():
    """Display the article's outline and the map (in a notebook)."""
    from IPython.display import Markdown, display
    display(Markdown(article_markdown() + "\n\n" + course_map_markdown()))
