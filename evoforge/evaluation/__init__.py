"""The evaluator: trains a design for its budget and measures it (accuracy, loss, params, FLOPs, latency)."""

from evoforge.evaluation._evaluate import accuracy_of, correct_of, pick_device, train_and_measure
from evoforge.evaluation._measure import accuracy_and_loss, flops_per_sample, latency_ms

__all__ = [
    "accuracy_and_loss",
    "accuracy_of",
    "correct_of",
    "flops_per_sample",
    "latency_ms",
    "pick_device",
    "train_and_measure",
]
