"""Reports for people: one self-contained HTML page and a Markdown summary of a study, with its progress, Pareto
front, lineage, every promotion case and the state of its audit chain. Needs matplotlib (``evoforge[report]``)."""

from evoforge.report._report import write_report

__all__ = ["write_report"]
