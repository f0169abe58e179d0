"""Energy used by a piece of work: read from Intel RAPL (powercap) on CPU or NVML on NVIDIA GPUs where the
counters are readable, otherwise estimated from device time x a stated power figure and marked ``estimated``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POWERCAP = Path("/sys/class/powercap")
DEFAULT_POWER_W = {"cpu": 10.0, "cuda": 300.0}  # per busy CPU core; per GPU


@dataclass(frozen=True)
class EnergyReading:
    joules: float
    source: str  # "rapl", "nvml" or "estimated"
    detail: str  # what was counted, in words

    @property
    def estimated(self) -> bool:
        return self.source == "estimated"


class _Rapl:
    """The package domains of the powercap tree (``intel-rapl:N``), summed; counters wrap at their range."""

    def __init__(self, root: Path) -> None:
        self.domains = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        self.ranges = [int((d / "max_energy_range_uj").read_text()) for d in self.domains]
        self.start = self._read()  # raises OSError when not readable (RAPL often needs root)

    def _read(self) -> list[int]:
        return [int((d / "energy_uj").read_text()) for d in self.domains]

    def joules(self) -> float:
        total = 0
        for before, after, span in zip(self.start, self._read(), self.ranges, strict=True):
            total += after - before if after >= before else after + span - before
        return total / 1e6


class _Nvml:
    def __init__(self, index: int) -> None:
        import pynvml  # nvidia-ml-py; optional

        pynvml.nvmlInit()
        self.nvml = pynvml
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self.start = pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)  # millijoules since driver load

    def joules(self) -> float:
        return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) - self.start) / 1e3


class EnergyMeter:
    """Measures the energy of the work between ``__enter__`` and ``reading()``.

    ``device`` is ``"cpu"`` or ``"cuda"``; ``power_w`` is the stated power for the estimate (W per busy CPU core
    of this process, or W for the whole GPU), defaulting to ``DEFAULT_POWER_W``.
    """

    def __init__(self, device: str, power_w: float | None = None, powercap: Path = POWERCAP, gpu: int = 0) -> None:
        self.device, self.powercap, self.gpu = device, powercap, gpu
        self.power_w = power_w if power_w is not None else DEFAULT_POWER_W[device]
        self._counter: Any = None

    def __enter__(self) -> EnergyMeter:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self._counter = self._open_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _open_counter(self) -> Any:
        try:
            if self.device == "cuda":
                return _Nvml(self.gpu)
            meter = _Rapl(self.powercap)
            return meter if meter.domains else None
        except Exception:  # no driver, no module, no permission: fall back to the estimate
            return None

    def reading(self) -> EnergyReading:
        if isinstance(self._counter, _Rapl):
            return EnergyReading(self._counter.joules(), "rapl", "CPU package energy (RAPL), whole socket")
        if isinstance(self._counter, _Nvml):
            return EnergyReading(self._counter.joules(), "nvml", "GPU board energy (NVML)")
        if self.device == "cuda":
            seconds = time.perf_counter() - self._wall
            return EnergyReading(seconds * self.power_w, "estimated", f"wall time x {self.power_w:g} W (GPU)")
        seconds = time.process_time() - self._cpu
        return EnergyReading(seconds * self.power_w, "estimated", f"CPU time x {self.power_w:g} W per core")
