"""Energy used by a piece of work: read from Intel RAPL (powercap) on CPU or NVML on NVIDIA GPUs where the
counters are readable, otherwise estimated from device time x a stated power figure and marked ``estimated``."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POWERCAP = Path("/sys/class/powercap")
PROC_STAT = Path("/proc/stat")
DEFAULT_POWER_W = {"cpu": 10.0, "cuda": 300.0}  # per busy CPU core; per GPU


@dataclass(frozen=True)
class EnergyReading:
    joules: float
    source: str  # "rapl", "nvml" or "estimated"
    detail: str  # what was counted, in words

    @property
    def estimated(self) -> bool:
        return self.source == "estimated"


def _busy_cpu_seconds(stat: Path) -> float | None:
    """CPU seconds spent busy by everything on the machine since boot (``/proc/stat``), or None if unreadable."""
    try:
        fields = stat.read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class _Rapl:
    """The package domains of the powercap tree (``intel-rapl:N``), summed. A counter wraps at its range, so it is
    sampled (``sample()``) often enough to see at most one wrap between samples. The package counts every process
    on the socket: this process is charged its share of the machine's busy CPU time."""

    def __init__(self, root: Path, stat: Path) -> None:
        self.domains = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        self.ranges = [int((d / "max_energy_range_uj").read_text()) for d in self.domains]
        self.last = self._read()  # raises OSError when not readable (RAPL often needs root)
        self.total_uj = 0
        self.stat = stat
        self.busy0, self.own0 = _busy_cpu_seconds(stat), time.process_time()

    def _read(self) -> list[int]:
        return [int((d / "energy_uj").read_text()) for d in self.domains]

    def sample(self) -> None:
        now = self._read()
        for before, after, span in zip(self.last, now, self.ranges, strict=True):
            self.total_uj += after - before if after >= before else after + span - before
        self.last = now

    def joules(self) -> tuple[float, float]:
        """(joules charged to this process, its share of the machine's busy CPU time)."""
        self.sample()
        busy = _busy_cpu_seconds(self.stat)
        own = time.process_time() - self.own0
        share = 1.0 if busy is None or self.busy0 is None or busy <= self.busy0 else min(1.0, own / (busy - self.busy0))
        return self.total_uj / 1e6 * share, share


class _Nvml:
    """The board energy counter of the GPU that torch calls ``cuda:index``, found by its PCI address (NVML numbers
    GPUs physically, ignoring ``CUDA_VISIBLE_DEVICES``)."""

    def __init__(self, index: int) -> None:
        import pynvml  # nvidia-ml-py; optional
        import torch

        pynvml.nvmlInit()
        self.nvml = pynvml
        p = torch.cuda.get_device_properties(index)
        pci = [getattr(p, f"pci_{k}_id", None) for k in ("domain", "bus", "device")]
        if None not in pci:
            self.handle = pynvml.nvmlDeviceGetHandleByPciBusId(f"{pci[0]:08x}:{pci[1]:02x}:{pci[2]:02x}.0")
        else:  # an older torch: map through CUDA_VISIBLE_DEVICES when it lists indices
            visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
            ids = [v for v in visible.split(",") if v.strip().isdigit()]
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(int(ids[index]) if index < len(ids) else index)
        self.start = pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)  # millijoules since driver load

    def joules(self) -> float:
        return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) - self.start) / 1e3


class EnergyMeter:
    """Measures the energy of the work between ``__enter__`` and ``reading()``.

    ``device`` is ``"cpu"`` or ``"cuda"``; ``power_w`` is the stated power for the estimate (W per busy CPU core
    of this process, or W for the whole GPU), defaulting to ``DEFAULT_POWER_W``.
    """

    def __init__(
        self,
        device: str,
        power_w: float | None = None,
        powercap: Path = POWERCAP,
        gpu: int = 0,
        proc_stat: Path = PROC_STAT,
    ) -> None:
        self.device, self.powercap, self.gpu, self.proc_stat = device, powercap, gpu, proc_stat
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
            meter = _Rapl(self.powercap, self.proc_stat)
            return meter if meter.domains else None
        except Exception:  # no driver, no module, no permission: fall back to the estimate
            return None

    def sample(self) -> None:
        """Read the counters now (call every so often in long work, so no wrap of a counter goes unseen)."""
        if isinstance(self._counter, _Rapl):
            self._counter.sample()

    def reading(self) -> EnergyReading:
        if isinstance(self._counter, _Rapl):
            joules, share = self._counter.joules()
            return EnergyReading(joules, "rapl", f"CPU package energy (RAPL) x this process's {share:.0%} of busy CPU")
        if isinstance(self._counter, _Nvml):
            return EnergyReading(self._counter.joules(), "nvml", "GPU board energy (NVML)")
        if self.device == "cuda":
            seconds = time.perf_counter() - self._wall
            return EnergyReading(seconds * self.power_w, "estimated", f"wall time x {self.power_w:g} W (GPU)")
        seconds = time.process_time() - self._cpu
        return EnergyReading(seconds * self.power_w, "estimated", f"CPU time x {self.power_w:g} W per core")
