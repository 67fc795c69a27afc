"""A sandbox for untrusted code (trainees' notebooks and capstone policies), built on bubblewrap.

Debian's ``bwrap`` (package ``bubblewrap``; ``scripts/_env.sh`` installs it) starts the
command in new user, pid, network, ipc, uts and cgroup namespaces with:

- a read-only view of only what Python needs: ``/usr`` (and its ``/bin``, ``/lib`` links), a
  few files of ``/etc``, the Python installation and virtual environment, the ``shopsim``
  package and its datasets. Nothing else of the host exists inside: not the gradebook, not
  the course's ``source/`` masters, not other submissions, not the grader's own files;
- a private ``/tmp`` (memory-backed, size-capped) and one writable work folder, seen inside
  as ``/sandbox`` (the only way data comes out);
- no network (only a loopback device), no capabilities, a new session (no terminal);
- ``--die-with-parent``: when the grader dies, the sandbox dies; when the command ends, its
  pid namespace ends and every process it started is killed with it;
- resource limits (:class:`Limits`): address space, CPU seconds, processes, file size, open
  files, no core dumps; captured stdout and stderr are cut at ``output_kb``.

Inside, the command runs as ``nobody`` without capabilities. The process limit is a
``prlimit`` inside the sandbox's own user namespace; when the grader runs as root (which
Linux exempts from process limits) it is a ``pids`` control group instead, where one can be
made. Where ``bwrap`` is missing or does not work (macOS, a kernel
without user namespaces), :func:`available` says why and :class:`Sandbox` refuses to run
unless it is created with ``unsafe=True`` (``--unsafe-no-sandbox``): then the command runs
as a plain child process in its own session with the same resource limits, and nothing
stops it from reading or writing the user's files.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Where the work folder appears inside the sandbox.
INSIDE = "/sandbox"
#: The unprivileged user the sandbox runs as when the grader is root.
NOBODY = 65534
#: Files of /etc that Python, numpy, pandas and matplotlib read; nothing else of /etc is visible.
ETC_FILES = ("localtime", "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "alternatives",
             "mime.types", "nsswitch.conf", "passwd", "group", "matplotlibrc", "ssl/openssl.cnf")
#: Folder (in the system's temporary folder) holding every live work folder.
WORK_ROOT = "shopsim-sandbox"


class SandboxUnavailable(RuntimeError):
    """Untrusted code would run without a sandbox (``bwrap`` missing) and ``unsafe`` was not given."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run.

    Parameters
    ----------
    memory_mb:
        Address space of each process, MiB (a notebook asking for more gets ``MemoryError``).
    cpu_seconds:
        CPU time of each process, seconds (then ``SIGXCPU``, reported as a crash).
    processes:
        Processes and threads alive at once inside the sandbox.
    file_mb:
        Largest file a process may write, MiB (also the size of the private ``/tmp``).
    open_files:
        File descriptors per process.
    output_kb:
        Captured stdout and stderr, KiB each; the rest is read and dropped.
    """

    memory_mb: int = 3072
    cpu_seconds: int = 600
    processes: int = 64
    file_mb: int = 64
    open_files: int = 256
    output_kb: int = 64

    def __post_init__(self) -> None:
        for name in ("memory_mb", "cpu_seconds", "processes", "file_mb", "open_files", "output_kb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"sandbox limit {name} must be a whole number of 1 or more, not {value!r}")

    def prlimit(self) -> list[str]:
        """The ``prlimit`` options that set these limits (soft = hard, so they cannot be raised)."""
        mib = 1024 * 1024
        pairs = {"as": self.memory_mb * mib, "cpu": self.cpu_seconds, "nproc": self.processes,
                 "fsize": self.file_mb * mib, "nofile": self.open_files, "core": 0}
        return [f"--{k}={v}:{v}" for k, v in pairs.items()]


@dataclass(frozen=True)
class Result:
    """How a sandboxed command ended.

    ``returncode`` is negative for a signal (as in :mod:`subprocess`); ``timed_out`` is true when
    the grader killed it at the time limit. ``stdout``/``stderr`` are cut at the output limit
    (``truncated`` says so). ``seconds`` is wall-clock time.
    """

    returncode: int
    timed_out: bool
    stdout: str
    stderr: str
    truncated: bool
    seconds: float
    sandboxed: bool

    @property
    def signal_name(self) -> str:
        """``SIGKILL``, ``SIGSEGV`` ... when a signal ended it, else ``""``."""
        if self.returncode >= 0:
            return ""
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


@functools.cache
def available() -> tuple[bool, str]:
    """Whether ``bwrap`` works here: ``(True, "")`` or ``(False, why not)``. Probed once per process."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory(prefix="shopsim-probe-") as tmp:
        argv = _bwrap_argv(Path(tmp), Limits(), (), {}) + ["/bin/true"]
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                                  preexec_fn=_session, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"bwrap does not start: {exc}"
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return False, f"bwrap does not work here ({why[0]}); user namespaces may be disabled"
    return True, ""


class _PidsGroup:
    """A ``pids`` control group capping the processes of one sandbox (used when the grader is root)."""

    ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))

    def __init__(self, limit: int) -> None:
        self.path: Path | None = None
        if os.getuid() != 0:
            return
        for root in self.ROOTS:
            if not (root / "pids.max").exists() and not (root / "cgroup.procs").exists():
                continue
            if root.name != "pids" and "pids" not in _read(root / "cgroup.subtree_control"):
                continue
            try:
                path = Path(tempfile.mkdtemp(prefix=f"shopsim-{os.getpid()}-", dir=root))
            except OSError:
                try:
                    path = root / f"shopsim-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
                    path.mkdir()
                except OSError:
                    continue
            try:
                (path / "pids.max").write_text(str(limit))
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            self.path = path
            return

    def enter(self) -> None:
        """In the child before ``exec``: join the group (its children stay in it)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text("0")

    def remove(self) -> None:
        """Remove the group once it is empty (its last processes may take a few milliseconds to die).

        Tries again after 1, 2, 4 ... ms (at most 20 ms between tries), for about a second in all.
        """
        if self.path is None:
            return
        waited, pause = 0.0, 0.001
        while True:
            try:
                self.path.rmdir()
                return
            except OSError:
                if waited >= 1.0:
                    return
                time.sleep(pause)
                waited += pause
                pause = min(2 * pause, 0.02)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _session(group: _PidsGroup | None = None) -> None:
    """In the child before ``exec``: a new session (killed as one group), in the pids group if any."""
    os.setsid()
    if group is not None:
        group.enter()


def _python_paths() -> list[Path]:
    """Folders Python and the installed packages live in (read-only inside)."""
    import shopsim
    from shopsim import datasets

    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(os.path.realpath(sys.executable)).parent,
             Path(shopsim.__file__).resolve().parent, datasets.folder().resolve()}
    return sorted(p for p in paths if p.exists())


def _system_binds() -> list[str]:
    args: list[str] = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in ETC_FILES:
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _bwrap_argv(workdir: Path, limits: Limits, readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
    args = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--die-with-parent", "--new-session",
            "--hostname", "sandbox", "--cap-drop", "ALL", "--clearenv",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.file_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    args += _system_binds()
    usr = Path("/usr")
    for path in [*_python_paths(), *readonly]:
        path = Path(path).resolve()
        if path != usr and usr not in path.parents:
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(workdir), INSIDE, "--chdir", INSIDE,
             "--size", str(limits.file_mb * 1024 * 1024), "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev", "--remount-ro", "/"]  # only /sandbox, /tmp and /dev/shm are writable
    for key, value in {"HOME": INSIDE, "TMPDIR": "/tmp", "PATH": "/usr/local/bin:/usr/bin:/bin", **env}.items():
        args += ["--setenv", key, value]
    return args + ["--", "prlimit", *limits.prlimit(), "--"]


def _limit_here(limits: Limits) -> None:
    """``preexec_fn`` of an unsafe run: a new session and the same resource limits, no sandbox."""
    import resource

    os.setsid()
    mib = 1024 * 1024
    for kind, value in ((resource.RLIMIT_AS, limits.memory_mb * mib), (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_FSIZE, limits.file_mb * mib), (resource.RLIMIT_NOFILE, limits.open_files),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))


class _Capped:
    """Reads a pipe to its end in a thread, keeping the first ``cap`` bytes."""

    def __init__(self, pipe: object, cap: int) -> None:
        self.pipe, self.cap = pipe, cap
        self.kept = bytearray()
        self.truncated = False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.pipe.read1(65536):  # type: ignore[attr-defined]
                room = self.cap - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
                if len(chunk) > max(room, 0):
                    self.truncated = True

    def text(self, wait: float) -> str:
        """What was kept, after waiting up to ``wait`` seconds for the pipe's end."""
        self.thread.join(wait)
        with contextlib.suppress(OSError):
            self.pipe.close()  # type: ignore[attr-defined]
        return self.kept.decode("utf-8", "replace")


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """End a sandboxed command and everything it started (its session's process group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


@dataclass
class Sandbox:
    """Runs commands confined to one work folder (see the module docstring).

    Parameters
    ----------
    workdir:
        The writable folder, seen inside as ``/sandbox``; read results from it after the run.
    limits:
        Resource limits of each run.
    readonly:
        Extra host folders visible read-only at the same path (e.g. a scenario's folder).
    unsafe:
        Run without a sandbox when ``bwrap`` is unavailable (``--unsafe-no-sandbox``).
    """

    workdir: Path
    limits: Limits = field(default_factory=Limits)
    readonly: Sequence[Path] = ()
    unsafe: bool = False
    _groups: dict[int, _PidsGroup] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        ok, why = available()
        self.sandboxed = ok
        if not ok and not self.unsafe:
            raise SandboxUnavailable(f"refusing to run untrusted code without a sandbox: {why}. "
                                     "Install bubblewrap, or accept the risk with --unsafe-no-sandbox "
                                     "(unsafe=True in Python)")
        self.workdir = Path(self.workdir)

    @property
    def inside(self) -> Path:
        """The work folder's path as the sandboxed command sees it."""
        return Path(INSIDE) if self.sandboxed else self.workdir

    def command(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
        """The full command line that runs ``argv`` in this sandbox."""
        if not self.sandboxed:
            return list(argv)
        return _bwrap_argv(self.workdir, self.limits, self.readonly, env or {}) + list(argv)

    def start(self, argv: Sequence[str], env: Mapping[str, str] | None = None, *,
              stdin: int | None = subprocess.DEVNULL, pass_fds: Sequence[int] = ()) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the sandbox with pipes for stdout and stderr (and stdin when asked).

        ``pass_fds`` are file descriptors of this process the command inherits (a pipe's end).
        The caller ends it with :meth:`stop` (which also removes its process group).
        """
        env = dict(env or {})
        if self.sandboxed:
            group = _PidsGroup(self.limits.processes)
            proc = subprocess.Popen(self.command(argv, env), stdin=stdin, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=self.workdir,
                                    env={"PATH": os.environ.get("PATH", "")}, pass_fds=tuple(pass_fds),
                                    preexec_fn=functools.partial(_session, group))
            self._groups[proc.pid] = group
            return proc
        full_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.workdir), **env}
        return subprocess.Popen(list(argv), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=self.workdir, env=full_env, pass_fds=tuple(pass_fds),
                                preexec_fn=functools.partial(_limit_here, self.limits))

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Kill ``proc`` and everything it started, reap it, and remove its control group."""
        kill_tree(proc)
        proc.wait()
        group = self._groups.pop(proc.pid, None)
        if group is not None:
            group.remove()

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
            on_end: Callable[[subprocess.Popen[bytes]], None] | None = None) -> Result:
        """Run ``argv`` to its end or to ``timeout`` seconds, then make sure nothing of it is left.

        ``on_start``/``on_end`` get the process (a batch keeps the live ones to end them on Ctrl-C).
        """
        begun = time.monotonic()
        proc = self.start(argv, env)
        if on_start is not None:
            on_start(proc)
        cap = self.limits.output_kb * 1024
        out, err = _Capped(proc.stdout, cap), _Capped(proc.stderr, cap)
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            self.stop(proc)  # at the time limit, and whatever it left running after it ended
            if on_end is not None:
                on_end(proc)
        stdout, stderr = out.text(2.0), err.text(2.0)
        return Result(proc.returncode, timed_out, stdout, stderr, out.truncated or err.truncated,
                      time.monotonic() - begun, self.sandboxed)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(root: Path | None = None) -> int:
    """Remove the work folders (and empty control groups) of graders that no longer run; return how many folders."""
    root = root or Path(tempfile.gettempdir()) / WORK_ROOT
    removed = 0
    for folder in root.glob("*-*") if root.is_dir() else []:
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    for groups in _PidsGroup.ROOTS if os.getuid() == 0 else ():
        for group in groups.glob("shopsim-*-*"):
            pid = group.name.split("-")[1]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    group.rmdir()
    return removed


@contextlib.contextmanager
def workspace(prefix: str = "run") -> Iterator[Path]:
    """A fresh work folder named after this process (so :func:`sweep_stale` can tell it is stale), removed after."""
    root = Path(tempfile.gettempdir()) / WORK_ROOT
    root.mkdir(mode=0o711, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{prefix}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
