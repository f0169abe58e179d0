"""run_sandboxed with ordinary programs: results, metrics, limits, environment, working directory, isolation."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from evoforge.sandbox import Limits, SandboxError, SandboxResult, isolation, run_sandboxed

QUICK = Limits(wall_s=30, cpu_s=20, memory_mb=1024)


def run(code: str, limits: Limits = QUICK, **kwargs: object) -> SandboxResult:
    return run_sandboxed(["python", "main.py"], {"main.py": code}, limits, **kwargs)  # type: ignore[arg-type]


def test_a_program_that_succeeds_is_ok_with_its_output() -> None:
    result = run("print('hello')")
    assert (result.status, result.reason, result.returncode, result.stdout) == ("ok", "ok", 0, "hello\n")
    assert result.ok


def test_metrics_come_from_the_last_json_line_of_numbers() -> None:
    code = 'print(\'{"acc": 0.1}\')\nprint(\'{"acc": 0.9, "params": 12, "best": true}\')\nprint(\'done\')'
    assert run(code).metrics == {"acc": 0.9, "params": 12.0, "best": 1.0}


def test_metrics_are_none_without_a_json_line_of_numbers() -> None:
    assert run("print('{\"name\": \"net\"}')\nprint('[1, 2]')").metrics is None


def test_a_failing_program_is_failed_with_the_last_line_of_stderr() -> None:
    result = run("1 / 0")
    assert (result.status, result.returncode) == ("failed", 1)
    assert result.reason == "exit code 1: ZeroDivisionError: division by zero"


def test_a_program_killed_by_a_signal_is_killed_naming_it() -> None:
    result = run("import os\nos.abort()")
    assert (result.status, result.reason) == ("killed", "killed by signal SIGABRT")


def test_the_files_are_written_into_the_working_directory_where_the_command_runs() -> None:
    files = {"main.py": "import helpers.util\nprint(helpers.util.VALUE)", "helpers/util.py": "VALUE = 42"}
    result = run_sandboxed(["python", "main.py"], files, QUICK)
    assert result.stdout == "42\n"


def test_the_working_directory_is_removed_afterwards() -> None:
    result = run("import os\nprint(os.getcwd())")
    assert result.ok and not Path(result.stdout.strip()).exists()


def test_a_checked_file_that_fails_the_static_check_is_refused_and_not_run() -> None:
    result = run("import os\nprint('ran')", checked=["main.py"])
    assert (result.status, result.reason) == ("refused", "static check: line 1: import of 'os' is not allowed")
    assert (result.returncode, result.stdout) == (None, "")


def test_the_child_gets_a_minimal_environment_plus_the_extra_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVOFORGE_PARENT_ONLY", "1")
    code = "import os, json\nprint(json.dumps(sorted(os.environ)))\nprint(os.environ['HOME'] == os.getcwd())"
    result = run(code, env={"EXTRA": "yes"})
    names = result.stdout.splitlines()[0]
    assert "EXTRA" in names and "EVOFORGE_PARENT_ONLY" not in names and "PATH" in names
    assert result.stdout.splitlines()[1] == "True"


def test_thread_variables_default_to_one_and_can_be_set() -> None:
    code = "import os\nprint(os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])"
    assert run(code).stdout == "1 1\n"
    assert run(code, env={"OMP_NUM_THREADS": "2"}).stdout == "2 1\n"


def test_torch_and_evoforge_import_and_compute_under_the_default_limits() -> None:
    code = "import torch, evoforge\nprint(torch.ones(1000, 1000).sum().item())"
    result = run_sandboxed(["python", "-c", code], {})
    assert (result.status, result.stdout) == ("ok", "1000000.0\n"), result.stderr[-2000:]


def test_only_the_tail_of_a_long_output_is_kept() -> None:
    result = run("for i in range(100_000):\n    print(i)", Limits(wall_s=30, output_kb=1))
    assert len(result.stdout) <= 1024 and result.stdout.endswith("99999\n")


def test_a_file_past_the_file_size_limit_is_file_size() -> None:
    result = run("with open('big', 'wb') as f:\n    f.write(b'x' * 3_000_000)", Limits(wall_s=30, file_mb=1))
    assert (result.status, result.reason) == ("file_size", "file-size limit of 1 MB reached")


def test_a_busy_loop_past_the_cpu_limit_is_cpu() -> None:
    result = run("while True:\n    pass", Limits(wall_s=30, cpu_s=1))
    assert (result.status, result.reason) == ("cpu", "CPU-time limit of 1 s reached")


def test_a_run_past_the_wall_time_limit_is_timeout() -> None:
    result = run("import time\ntime.sleep(60)", Limits(wall_s=1))
    assert (result.status, result.reason, result.returncode) == ("timeout", "wall-time limit of 1 s reached", -9)


def test_a_missing_program_fails_without_raising() -> None:
    result = run_sandboxed(["evoforge-no-such-program"], {}, QUICK)
    assert result.status == "failed" and "cannot run evoforge-no-such-program" in result.reason


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder others may read (the sandboxed code may run as another user), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="evoforge-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def home_folder() -> Iterator[Path]:
    """Like ``shared_folder``, but inside the home folder, which the sandbox hides."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=".evoforge-test-", dir=Path.home()))
    except OSError as e:
        pytest.skip(f"cannot write to the home folder: {e}")
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def read_in_sandbox(path: Path, readable: list[str]) -> SandboxResult:
    path.write_text("7\n")
    path.chmod(0o644)
    code = "import sys\nprint(open(sys.argv[1]).read().strip())"
    return run_sandboxed(["python", "-c", code, str(path)], {}, QUICK, readable=readable)


def test_a_readable_folder_can_be_read(shared_folder: Path) -> None:
    result = read_in_sandbox(shared_folder / "numbers.txt", [str(shared_folder)])
    assert result.stdout == "7\n", result.stderr


def test_a_readable_folder_inside_the_hidden_home_can_be_read(home_folder: Path) -> None:
    result = read_in_sandbox(home_folder / "numbers.txt", [str(home_folder)])
    assert result.stdout == "7\n", result.stderr


def test_the_rest_of_the_home_folder_is_hidden(home_folder: Path) -> None:
    if "home folders hidden" not in isolation().note:
        pytest.skip(f"no mount namespace here ({isolation().note})")
    result = read_in_sandbox(home_folder / "numbers.txt", [])
    assert result.status == "failed" and "No such file or directory" in result.reason


def test_the_run_reports_the_network_isolation_that_isolation_reports() -> None:
    assert run("pass").network_isolated is isolation().network


def test_isolation_is_probed_once_and_describes_itself() -> None:
    assert isolation() is isolation()
    assert isolation().note.startswith("sandbox: network ")


def test_the_run_sees_only_its_own_processes_when_isolated() -> None:
    if not isolation().network:
        pytest.skip("no namespaces on this machine: the run shares the PID namespace")
    result = run("import os\nprint(os.getpid(), len([p for p in os.listdir('/proc') if p.isdigit()]) <= 3)")
    assert result.stdout == "2 True\n"


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.py"])
def test_a_file_name_outside_the_working_directory_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="relative path inside"):
        run_sandboxed(["python", "-c", "pass"], {name: "x"}, QUICK)


def test_a_missing_readable_path_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        run_sandboxed(["python", "-c", "pass"], {}, QUICK, readable=[str(tmp_path / "absent")])


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="Limits.wall_s"):
        Limits(wall_s=0)


def test_sandbox_error_carries_the_result() -> None:
    result = run("1 / 0")
    error = SandboxError(result.reason, result)
    assert str(error) == result.reason and error.result is result
    assert SandboxError("x").result is None
