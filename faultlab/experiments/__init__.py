"""Experiments: many seeded runs summarised as data plus a figure."""
from .election import ElectionData, election_figure, election_times

__all__ = ["ElectionData", "election_times", "election_figure"]
