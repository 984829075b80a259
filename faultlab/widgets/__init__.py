"""Widgets for notebooks: a fault-injection panel and a predict-then-inject exercise.

They are composed from ``faultlab.viz`` figures and drive any cluster through
the shared duck type (``World`` or a real cluster); no protocol logic lives here.
"""
from .panel import FaultPanel
from .predict import PredictExercise

__all__ = ["FaultPanel", "PredictExercise"]
