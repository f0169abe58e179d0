from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from evoforge.design import Design
from evoforge.evaluation._energy import EnergyMeter
from evoforge.evaluation._memory import peak_memory_mb
from evoforge.tasks import EvalSettings, make_task
from tests.conftest import SMALL_DIGITS_GENES


def _powercap(root: Path, uj: int, span: int = 262143328850) -> Path:
    """A powercap tree as the kernel lays it out: a package domain and a core sub-domain (not to be added)."""
    for name, kind in (("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "core")):
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "name").write_text(kind)
        (d / "energy_uj").write_text(str(uj))
        (d / "max_energy_range_uj").write_text(str(span))
    return root


def _stat(path: Path, busy_ticks: int) -> Path:
    """A /proc/stat first line: user nice system idle iowait irq softirq steal, in clock ticks."""
    path.write_text(f"cpu  {busy_ticks} 0 0 999999 0 0 0 0 0 0\n")
    return path


def test_rapl_counters_are_read_from_the_package_domains(tmp_path: Path) -> None:
    root = _powercap(tmp_path, 1_000_000)
    with EnergyMeter("cpu", powercap=root, proc_stat=tmp_path / "no-stat") as meter:  # no stat: charged it all
        (root / "intel-rapl:0" / "energy_uj").write_text("3500000")
        (root / "intel-rapl:0:0" / "energy_uj").write_text("9000000")
    reading = meter.reading()
    assert reading.source == "rapl" and not reading.estimated
    assert reading.joules == pytest.approx(2.5)


def test_a_rapl_counter_that_wraps_is_unwrapped(tmp_path: Path) -> None:
    root = _powercap(tmp_path, 9_000_000, span=10_000_000)
    with EnergyMeter("cpu", powercap=root, proc_stat=tmp_path / "no-stat") as meter:
        (root / "intel-rapl:0" / "energy_uj").write_text("500000")  # wrapped: +1.5 J
        meter.sample()
        (root / "intel-rapl:0" / "energy_uj").write_text("8000000")  # +7.5 J
        meter.sample()
        (root / "intel-rapl:0" / "energy_uj").write_text("200000")  # wrapped again: +2.2 J
    assert meter.reading().joules == pytest.approx(11.2)


def test_a_busy_machine_charges_this_process_only_its_share_of_the_socket(tmp_path: Path) -> None:
    root = _powercap(tmp_path, 0)
    stat = _stat(tmp_path / "stat", 100)
    with EnergyMeter("cpu", powercap=root, proc_stat=stat) as meter:
        start = time.process_time()
        while time.process_time() - start < 0.1:
            pass
        (root / "intel-rapl:0" / "energy_uj").write_text("50000000")  # 50 J on the socket
        _stat(stat, 100 + 1_000_000)  # the others kept the machine busy for 10,000 CPU seconds
    reading = meter.reading()
    assert reading.source == "rapl" and 0 < reading.joules < 0.01 and "of busy CPU" in reading.detail


def test_without_readable_counters_energy_is_estimated_from_cpu_time(tmp_path: Path) -> None:
    with EnergyMeter("cpu", power_w=20.0, powercap=tmp_path / "absent") as meter:
        start = time.process_time()
        while time.process_time() - start < 0.2:
            pass
    reading = meter.reading()
    assert reading.source == "estimated" and reading.estimated and "20 W" in reading.detail
    assert reading.joules == pytest.approx(20.0 * 0.2, rel=0.5)


def test_a_gpu_without_nvml_falls_back_to_the_stated_gpu_power() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; NVML may be readable")
    with EnergyMeter("cuda") as meter:
        time.sleep(0.05)
    reading = meter.reading()
    assert reading.estimated and "300 W (GPU)" in reading.detail and reading.joules > 0


def test_estimated_energy_is_marked_in_the_trial_result() -> None:
    result = make_task({"name": "digits"}).evaluate(Design.make("macro", SMALL_DIGITS_GENES), 0, EvalSettings("cpu"))
    try:
        Path("/sys/class/powercap/intel-rapl:0/energy_uj").read_text()
        pytest.skip("RAPL is readable here; the reading is not an estimate")
    except OSError:
        pass
    assert result.info["estimated"] == ["energy_j"] and result.info["energy"]["source"] == "estimated"


def test_peak_memory_counts_weights_input_and_the_largest_live_activations() -> None:
    model = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 8))
    batch = torch.zeros(64, 256)
    weights = sum(p.numel() for p in model.parameters()) * 4
    activation = 64 * 1024 * 4  # the widest layer's output
    mb = peak_memory_mb(model, batch)
    assert mb * 2**20 >= weights + batch.numel() * 4 + activation
    assert mb * 2**20 <= weights + batch.numel() * 4 + 3 * activation  # at most a few activations alive at once
    assert peak_memory_mb(model, torch.zeros(256, 256)) > mb  # a bigger batch needs more


def test_the_memory_floor_checked_before_training_never_exceeds_what_training_measures() -> None:
    task = make_task({"name": "digits"})
    options = {"precisions": ["fp32", "bf16"], "quantize": ["none", "int8"], "channels_last": [False, True]}
    space = task.space({**options, "prune": [0.0, 0.5], "epochs": [1, 1], "max_blocks": 3})
    rng = random.Random(4)
    for _ in range(6):
        design = space.sample(rng)
        measured = task.evaluate(design, 0, EvalSettings("cpu", latency_batch=32)).metrics["peak_memory_mb"]
        assert space.static_metrics(design, 32)["peak_memory_mb"] <= measured, design.genes["deploy"]


def test_peak_memory_counts_the_packed_weights_of_quantized_layers() -> None:
    import warnings

    model = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 8)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantized = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    int8_weights = 256 * 1024 + 1024 * 8  # one byte each
    assert peak_memory_mb(quantized, torch.zeros(64, 256)) * 2**20 >= int8_weights
