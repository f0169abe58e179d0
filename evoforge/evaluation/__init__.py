"""The evaluator: trains a design for its budget and measures it (accuracy, loss, params, FLOPs, latency)."""

from evoforge.evaluation._evaluate import per_input_of, pick_device, train_and_measure
from evoforge.evaluation._measure import accuracy_and_loss, flops_per_sample, latency_ms, per_input

__all__ = [
    "accuracy_and_loss",
    "flops_per_sample",
    "latency_ms",
    "per_input",
    "per_input_of",
    "pick_device",
    "train_and_measure",
]
