"""The trusted launcher between evoforge and a sandboxed command (standard library only; not imported by evoforge).

Run as ``python -I -S _launch.py CONFIG`` by ``_run.py`` (CONFIG: a dict, ``marshal``-ed, in hex), in a new session,
with the child's environment, the working directory as its cwd. Steps, each best effort, reported (a ``marshal``-ed
dict) on ``report_fd``; the imports are the cheap ones (no json, re or signal) as this runs before every trial:

1. resource limits (core 0, CPU, file size, data segment as a backstop for the memory poll);
2. new mount, network, PID and IPC namespaces (a user namespace first when not root); without them the command just
   runs in this process after step 4;
3. in the new mount namespace: the home directories are hidden behind an empty tmpfs (the Python installation, the
   package and the ``keep`` paths are mounted back), every mount is made read-only except the working directory, and
   /dev/shm is a fresh small tmpfs;
4. as root: the command runs as a uid of its own (``uid_base`` + this process's pid, so that RLIMIT_NPROC counts
   this run's processes only) when every path it needs is reachable by others;
5. a fork: the child is PID 1 of the new PID namespace (``init``), which forks the command and reaps orphans. When
   the command ends, init exits and the kernel kills everything left in the namespace; this process then ends the
   way the command did (same exit code or same signal), so the caller reads the command's fate from it.
"""

from __future__ import annotations

import _signal  # not `signal`, whose enums cost milliseconds (and no contextlib, json or re either)
import ctypes
import marshal
import os
import resource
import stat
import sys

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
# Flags a read-only remount must repeat: in a user namespace the kernel refuses to clear the ones it locked.
MOUNT_OPTIONS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": 1024, "nodiratime": 2048}
MOUNT_OPTIONS |= {"relatime": 1 << 21, "strictatime": 1 << 24}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SIGKILL, SIGSTOP = 9, 19
MB = 1024 * 1024

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {target}")


def set_limits(cfg: dict) -> None:
    """Limits every process of the run inherits (RLIMIT_NPROC comes last, in the command's own process)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["file_mb"] * MB, cfg["file_mb"] * MB))
    if cfg["cpu_s"] is not None:  # SIGXCPU at the soft limit, SIGKILL one second later if it is ignored
        resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_s"], cfg["cpu_s"] + 1))
    if cfg["data_mb"] is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (cfg["data_mb"] * MB, cfg["data_mb"] * MB))


def enter_namespaces(report: dict) -> bool:
    """New mount, network, PID and IPC namespaces (root needs no user namespace); False when the OS refuses."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | (CLONE_NEWUSER if uid else 0)
    try:
        _check(libc.unshare(flags), "unshare")
        if uid:  # keep our own ids (non-zero), so the command loses the namespace's capabilities at exec
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
    except OSError as e:
        report["error"] = e.strerror or str(e)
        return False
    return True


def _mounts() -> list[tuple[str, set[str]]]:
    """(mount point, per-mount options) of every mount this process sees, from /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ")[0].split()
            point, *escaped = fields[4].split("\\")  # a space is written \040, a backslash \134
            point += "".join(chr(int(e[:3], 8)) + e[3:] for e in escaped)
            found.append((point, set(fields[5].split(","))))
    return found


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _bind_from(fd: int, target: str) -> None:
    """Bind what ``fd`` (an O_PATH descriptor) names onto ``target``, creating ``target`` in a tmpfs if needed."""
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.makedirs(target, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").close()
    _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)


def isolate_files(cfg: dict, report: dict) -> None:
    """Hide the homes, mount back what is kept, make everything read-only but the workdir, give a private /dev/shm."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # first, so nothing below propagates to the machine
    workdir, keep = cfg["workdir"], [p for p in cfg["keep"] if os.path.exists(p)]
    fds = {path: os.open(path, os.O_PATH) for path in [*keep, workdir]}
    for home in cfg["hide"]:
        if os.path.isdir(home) and not any(_inside(home, k) for k in keep):
            _mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
            for path in keep:
                if _inside(path, home):
                    _bind_from(fds[path], path)
    _bind_from(fds[workdir], workdir)
    for fd in fds.values():
        os.close(fd)
    writable = []
    for point, options in dict(_mounts()).items():
        if _inside(point, workdir) or "ro" in options:
            continue
        flags = sum(v for k, v in MOUNT_OPTIONS.items() if k in options)
        try:  # MS_BIND: change this mount only, never the file system (which the whole machine shares)
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        except FileNotFoundError:
            pass  # under a hidden home: out of reach anyway
        except OSError:
            writable.append(point)
    if os.path.isdir("/dev/shm"):  # POSIX semaphores and shared tensors live here; capped like one file
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={cfg['file_mb']}m")
    report["writable"] = writable


def _reachable(path: str, uid: int) -> bool:
    """Whether ``uid`` (not the owner, not in the group) can reach ``path``: search on each folder, read on it."""
    parts = os.path.abspath(path).split("/")
    for depth in range(1, len(parts) + 1):
        try:
            info = os.stat("/".join(parts[:depth]) or "/")
        except OSError:
            return False
        if info.st_uid != uid and not info.st_mode & (stat.S_IROTH if depth == len(parts) else stat.S_IXOTH):
            return False
    return True


def choose_user(cfg: dict, report: dict) -> int | None:
    """The uid the command runs as when root drops its privileges, else None; the workdir is handed to it."""
    if cfg["uid_base"] is None or os.getuid() != 0:
        report["user"] = "the current user"
        return None
    uid = cfg["uid_base"] + os.getpid()  # unique among live runs: pids are
    needed = [cfg["argv"][0], os.path.dirname(cfg["workdir"]), *cfg["needed"]]
    blocked = [p for p in needed if os.path.isabs(p) and not _reachable(p, uid)]
    if blocked:
        report["user"] = f"root (could not drop privileges: {blocked[0]} is not readable by others)"
        return None
    for folder, _, names in os.walk(cfg["workdir"]):
        for name in [folder, *(os.path.join(folder, n) for n in names)]:
            os.chown(name, uid, uid, follow_symlinks=False)
    report["user"] = "an unprivileged uid of its own (dropped from root)"
    return uid


def count_tasks(uid: int) -> int:
    """Processes and threads that ``uid`` runs on this machine now (RLIMIT_NPROC counts them all)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1"))
    return total


def exec_command(cfg: dict, uid: int | None, nproc: int | None) -> None:
    """Become the command: no new privileges, the dropped user, the process cap; exit 127 if it cannot start."""
    try:
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        os.chdir(cfg["workdir"])  # again: the old cwd is on the mount that is now read-only
        os.execvp(cfg["argv"][0], cfg["argv"])
    except OSError as e:
        os.write(2, f"sandbox: cannot run {cfg['argv'][0]}: {e}\n".encode())
    os._exit(127)


def run_as_init(cfg: dict, uid: int | None, nproc: int | None) -> int:
    """Fork PID 1 of the new PID namespace, which runs the command and reaps; return the command's wait status."""
    read_end, write_end = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(read_end)
        libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)  # the launcher was killed: the run ends too
        try:  # a /proc of this namespace: the command sees its own processes only  # noqa: SIM105
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
        except OSError:
            pass
        command = os.fork()
        if command == 0:
            os.close(write_end)
            exec_command(cfg, uid, nproc)
        while True:  # reap orphans too; when the command is done, leaving kills the rest of the namespace
            pid, status = os.wait()
            if pid == command:
                os.write(write_end, str(status).encode())
                os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(init, 0)
    told = os.read(read_end, 32)
    return int(told) if told else status


def end_like(status: int) -> None:
    """End this process as the wait status ``status`` says: the same exit code, or killed by the same signal."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (SIGKILL, SIGSTOP):  # Python ignores SIGPIPE and SIGXFSZ, and handles SIGINT
            _signal.signal(sig, _signal.SIG_DFL)
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status))


def main() -> None:
    cfg = marshal.loads(bytes.fromhex(sys.argv[1]))
    libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)  # the caller died: so does the run (init follows us)
    if os.getppid() != cfg["parent"]:  # it died before we could ask
        os._exit(128 + SIGKILL)
    report: dict = {"namespaces": False, "writable": None}
    set_limits(cfg)
    namespaced = report["namespaces"] = cfg["namespaces"] and enter_namespaces(report)
    if namespaced:
        try:
            isolate_files(cfg, report)
        except OSError as e:
            report["writable"], report["error"] = ["/"], f"file system left writable: {e.strerror or e}"
    uid = choose_user(cfg, report)
    if namespaced and os.getuid():  # counted inside our user namespace, where this process, init and the command run
        nproc: int | None = cfg["processes"] + 3
    elif uid is not None:  # counted machine-wide for that uid, which only the command uses
        nproc = cfg["processes"] + 1
    elif os.getuid():  # counted machine-wide for our user, this process (the command to be) included
        nproc = count_tasks(os.getuid()) + cfg["processes"]
    else:
        nproc = None  # root ignores RLIMIT_NPROC
    report["nproc"] = nproc
    os.write(cfg["report_fd"], marshal.dumps(report))  # small: one atomic write
    os.close(cfg["report_fd"])
    if namespaced:
        end_like(run_as_init(cfg, uid, nproc))
    exec_command(cfg, uid, nproc)


if __name__ == "__main__":
    main()
