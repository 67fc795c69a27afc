"""JupyterHub for a class of shopsim trainees: the roster, sign-in, limits and each home's course copy.

``jupyterhub_config.py`` (next to this file) loads it. It is also the instructor's small tool,
run as root on the hub machine::

    python shopsim_hub.py passwords roster.csv --out passwords.csv   # new passwords for who has none
    python shopsim_hub.py check roster.csv                          # the roster is valid (exit 0/2)
    python shopsim_hub.py collect 01-daily-report roster.csv --to /srv/shopsim/submissions/01
    python shopsim_hub.py remove-users roster.csv                   # end of course: users and homes go

The roster is a CSV file with a header: ``username`` (a Linux login name: lower-case letters,
digits, ``_`` and ``-``, starting with a letter or ``_``, at most 32), ``role`` (``trainee`` or
``instructor``), ``password_hash`` (written by ``passwords``; PBKDF2-SHA256, never the
password itself), and optionally ``full_name`` and ``language`` (``zh_CN`` gives that
person JupyterLab in Chinese; ``en`` or empty leaves English).
"""

from __future__ import annotations

import argparse
import base64
import csv
import grp
import hashlib
import hmac
import json
import math
import os
import pwd
import re
import resource
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyterhub.auth import LocalAuthenticator
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Int, Unicode

#: Unix group of the instructors: it may read the lesson masters (solutions and hidden tests).
INSTRUCTOR_GROUP = "shopsim-instructors"
#: Where each person's course copy goes, under their home.
COURSE_DIR, MASTERS_DIR = "course", "course-masters"
ROLES = ("trainee", "instructor")
LANGUAGES = ("", "en", "zh_CN")
PBKDF2_ITERATIONS = 200_000
_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


class RosterError(ValueError):
    """The roster file is missing or has bad lines (one message listing every problem)."""


@dataclass(frozen=True)
class Member:
    """One person of the class, as the roster lists them."""

    username: str
    role: str
    password_hash: str = ""
    full_name: str = ""
    language: str = ""


def load_roster(path: str | Path) -> dict[str, Member]:
    """The roster by username; :class:`RosterError` lists every bad line (line number, what, allowed)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise RosterError(f"roster {path}: cannot read it ({exc.strerror or exc})") from None
    problems, members = [], {}
    for line, row in enumerate(rows, start=2):
        name, role = (row.get("username") or "").strip(), (row.get("role") or "trainee").strip()
        language = (row.get("language") or "").strip()
        if not _NAME.fullmatch(name):
            problems.append(f"line {line}: username {name!r} is not a Linux login name "
                            "(lower-case letters, digits, _ and -, starting with a letter or _, at most 32)")
        elif name in members:
            problems.append(f"line {line}: username {name!r} is listed twice")
        if role not in ROLES:
            problems.append(f"line {line}: role {role!r}; allowed: {', '.join(ROLES)}")
        if language not in LANGUAGES:
            problems.append(f"line {line}: language {language!r}; allowed: en, zh_CN or empty")
        members[name] = Member(name, role, (row.get("password_hash") or "").strip(),
                               (row.get("full_name") or "").strip(), language)
    if problems:
        raise RosterError(f"roster {path}: {len(problems)} problem(s)\n  " + "\n  ".join(problems))
    if not members:
        raise RosterError(f"roster {path}: no one is listed (a header line and one line per person)")
    return members


def hash_password(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (base64) of ``password``: what the roster stores."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    b64 = base64.b64encode
    return f"pbkdf2_sha256${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant time)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


class RosterAuthenticator(LocalAuthenticator):
    """Sign-in against the roster; each person is a system user, created at hub start if missing."""

    roster_file = Unicode(help="Path of the roster CSV file.").tag(config=True)

    def _roster(self) -> dict[str, Member]:
        return load_roster(self.roster_file)

    async def authenticate(self, handler, data):  # noqa: ANN001 - JupyterHub's signature
        """The username when it is on the roster and the password matches its hash, else None."""
        name = (data.get("username") or "").strip().lower()
        member = self._roster().get(name)
        if member is None or not member.password_hash or not verify_password(data.get("password") or "",
                                                                             member.password_hash):
            self.log.warning("failed sign-in for %r", name)
            return None
        return name

    def add_system_user(self, user) -> None:  # noqa: ANN001
        """Create the system user (home 0700), and put instructors in :data:`INSTRUCTOR_GROUP`."""
        super().add_system_user(user)
        os.chmod(pwd.getpwnam(user.name).pw_dir, 0o700)

    async def add_user(self, user) -> None:  # noqa: ANN001
        """Make sure the system user exists; instructors join :data:`INSTRUCTOR_GROUP`."""
        await super().add_user(user)
        member = self._roster().get(user.name)
        if member is not None and member.role == "instructor":
            ensure_group(INSTRUCTOR_GROUP)
            subprocess.run(["usermod", "-a", "-G", INSTRUCTOR_GROUP, user.name], check=True)


def ensure_group(name: str) -> None:
    """Create the Unix group ``name`` unless it exists."""
    try:
        grp.getgrnam(name)
    except KeyError:
        subprocess.run(["groupadd", "--system", name], check=True)


class LimitedSpawner(LocalProcessSpawner):
    """Each person's server as their own system user, with a memory, CPU and process limit.

    Without systemd or a container runtime (a plain Linux machine), the limits are set on the
    server process and inherited by its kernels: ``mem_limit`` caps each process's data
    memory (``RLIMIT_DATA``), ``cpu_limit`` pins the user's processes to that many cores
    (rounded up; users spread over the cores by uid), and ``nproc_limit`` caps the user's
    processes and threads (``RLIMIT_NPROC``). With systemd, ``SystemdSpawner`` enforces the
    same two values as a per-user cgroup (see ``docs/deploy.md``).
    """

    nproc_limit = Int(512, help="Most processes and threads one user may run.").tag(config=True)

    def make_preexec_fn(self, name: str):
        """Set the limits (still root), then become the user."""
        become_user = super().make_preexec_fn(name)
        memory = int(self.mem_limit or 0)
        cores = _cores_for(pwd.getpwnam(name).pw_uid, self.cpu_limit)
        nproc = int(self.nproc_limit)

        def preexec() -> None:
            if memory:
                resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
            if nproc:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            if cores:
                os.sched_setaffinity(0, cores)
            become_user()

        return preexec


def _cores_for(uid: int, cpu_limit: float | None) -> set[int]:
    """The cores a user's processes may use: ``ceil(cpu_limit)`` of them, chosen by uid (empty: all)."""
    available = sorted(os.sched_getaffinity(0))
    if not cpu_limit or math.ceil(cpu_limit) >= len(available):
        return set()
    n = math.ceil(cpu_limit)
    start = (uid * n) % len(available)
    return {available[(start + i) % len(available)] for i in range(n)}


def seed_home(username: str, course: Path, roster: dict[str, Member]) -> list[Path]:
    """Copy the course into ``username``'s home; never overwrites what they have. Returns what was copied.

    Everyone gets the student notebooks (``course/lessons``) in ``~/course``; instructors also
    get the masters and instructor notebooks in ``~/course-masters``. A ``language`` of
    ``zh_CN`` on the roster sets JupyterLab's language for that person (once; they can change it).
    """
    user = pwd.getpwnam(username)
    home = Path(user.pw_dir)
    os.chmod(home, 0o700)
    member = roster.get(username)
    plan = [(course / "lessons", home / COURSE_DIR)]
    if member is not None and member.role == "instructor":
        plan += [(course / "source", home / MASTERS_DIR), (course / "instructor", home / MASTERS_DIR / "instructor")]
    copied = []
    for src, dest in plan:
        for nb in sorted(src.glob("*.ipynb")):
            target = dest / nb.name
            if not target.exists():
                _make_dirs(dest, home, user)
                shutil.copyfile(nb, target)
                os.chown(target, user.pw_uid, user.pw_gid)
                copied.append(target)
    if member is not None and member.language == "zh_CN":
        settings = home / ".jupyter/lab/user-settings/@jupyterlab/translation-extension/plugin.jupyterlab-settings"
        if not settings.exists():
            _make_dirs(settings.parent, home, user)
            settings.write_text(json.dumps({"locale": "zh_CN"}), encoding="utf-8")
            os.chown(settings, user.pw_uid, user.pw_gid)
    return copied


def _make_dirs(path: Path, home: Path, user: pwd.struct_passwd) -> None:
    """mkdir -p ``path`` under ``home``, each new folder owned by the user."""
    missing = []
    while not path.exists() and path != home:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o755)
        os.chown(folder, user.pw_uid, user.pw_gid)


def collect(lesson: str, roster: dict[str, Member], to: Path) -> list[Path]:
    """Copy each trainee's ``~/course/LESSON.ipynb`` to ``to/USERNAME.ipynb`` for ``shopsim grade`` (run as root).

    ``to`` is made readable by :data:`INSTRUCTOR_GROUP` only.
    """
    ensure_group(INSTRUCTOR_GROUP)
    to.mkdir(parents=True, exist_ok=True)
    os.chown(to, 0, grp.getgrnam(INSTRUCTOR_GROUP).gr_gid)
    os.chmod(to, 0o2750)
    found = []
    for member in roster.values():
        if member.role != "trainee":
            continue
        try:
            src = Path(pwd.getpwnam(member.username).pw_dir) / COURSE_DIR / f"{lesson}.ipynb"
        except KeyError:
            continue
        if src.is_file():
            target = to / f"{member.username}.ipynb"
            shutil.copyfile(src, target)
            os.chmod(target, 0o640)
            found.append(target)
    return found


def remove_users(roster: dict[str, Member]) -> list[str]:
    """Delete the roster's system users and their homes (the end of a course). Returns who went."""
    gone = []
    for name in roster:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        subprocess.run(["userdel", "--remove", name], check=True, capture_output=True)
        gone.append(name)
    return gone


def issue_passwords(path: Path) -> dict[str, str]:
    """Give everyone on the roster without a ``password_hash`` a new random password; rewrite the roster.

    Returns username -> the new password (shown once; hand them out and delete the list).
    """
    members = load_roster(path)
    new = {name: secrets.token_urlsafe(9) for name, m in members.items() if not m.password_hash}
    fields = ["username", "role", "password_hash", "full_name", "language"]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for m in members.values():
            stored = hash_password(new[m.username]) if m.username in new else m.password_hash
            writer.writerow({"username": m.username, "role": m.role, "password_hash": stored,
                             "full_name": m.full_name, "language": m.language})
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return new


def main(argv: list[str] | None = None) -> int:
    """The instructor's command line (see the module docstring); exit 2 with one message on bad input."""
    p = argparse.ArgumentParser(prog="shopsim_hub.py", description="Roster and homes of a shopsim JupyterHub.")
    sub = p.add_subparsers(dest="action", required=True)
    s = sub.add_parser("check", help="check the roster")
    s.add_argument("roster", type=Path)
    s = sub.add_parser("passwords", help="new passwords for everyone without one")
    s.add_argument("roster", type=Path)
    s.add_argument("--out", type=Path, required=True, help="CSV of username,password to hand out (mode 600)")
    s = sub.add_parser("collect", help="copy trainees' notebooks of one lesson for grading (root)")
    s.add_argument("lesson", help="lesson file name without .ipynb, e.g. 01-daily-report")
    s.add_argument("roster", type=Path)
    s.add_argument("--to", type=Path, required=True)
    s = sub.add_parser("remove-users", help="delete the roster's system users and their homes (root)")
    s.add_argument("roster", type=Path)
    args = p.parse_args(argv)
    try:
        if args.action == "check":
            members = load_roster(args.roster)
            roles = [m.role for m in members.values()]
            print(f"{args.roster}: {roles.count('trainee')} trainees, {roles.count('instructor')} instructors")
        elif args.action == "passwords":
            new = issue_passwords(args.roster)
            with open(args.out, "w", newline="", encoding="utf-8") as f:
                os.chmod(args.out, 0o600)
                csv.writer(f).writerows([("username", "password"), *new.items()])
            print(f"{len(new)} new password(s) in {args.out}; hashes written to {args.roster}")
        elif args.action == "collect":
            found = collect(args.lesson, load_roster(args.roster), args.to)
            print(f"{len(found)} notebook(s) copied to {args.to}")
        else:
            print(f"removed: {', '.join(remove_users(load_roster(args.roster))) or 'no one'}")
    except (RosterError, OSError, subprocess.CalledProcessError) as exc:
        print(f"shopsim_hub.py {args.action}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
