"""JupyterHub configuration for a shopsim class on one machine (run as root: it creates users).

    sudo SHOPSIM_HUB_ROSTER=/srv/shopsim/roster.csv /opt/shopsim/.venv/bin/jupyterhub \\
        -f /opt/shopsim/deploy/jupyterhub/jupyterhub_config.py

What it sets up (``docs/deploy.md`` walks through it; the Kubernetes values it corresponds to
are there too):

- **People**: one system user per roster line (``shopsim_hub.py``: ``username``, ``role``,
  ``password_hash``), created at hub start if missing (``useradd``, home mode 0700, so no one
  reads another's home). Sign-in checks the roster's PBKDF2 hash (:class:`RosterAuthenticator`).
- **Roles**: ``instructor`` may see every user and server in the admin page, open a trainee's
  server to help, and start or stop it; instructors are also in the Unix group
  ``shopsim-instructors`` and get the masters (solutions, hidden tests) in ``~/course-masters``,
  where they run ``shopsim grade``. Trainees get nothing beyond their own server.
- **Homes**: before each start, the student notebooks are copied into ``~/course`` (only those
  missing: a trainee's work is never overwritten). ``language: zh_CN`` on the roster opens
  JupyterLab in Chinese for that person (``jupyterlab-language-pack-zh-CN``).
- **Limits** per user: memory and CPU (:class:`LimitedSpawner`), and the idle culler
  (``jupyterhub-idle-culler``) stops servers nobody used for ``SHOPSIM_HUB_IDLE_TIMEOUT``
  seconds.
- **Proxy**: ``configurable-http-proxy`` from ``node_modules`` here, installed beforehand by
  ``install-proxy.sh`` (nothing is downloaded when the hub starts).

Settings come from the environment (defaults in brackets):

================================  ====================================================================
``SHOPSIM_HUB_ROSTER``            roster CSV [``roster.csv`` next to this file]
``SHOPSIM_HUB_COURSE``            course folder with lessons/, source/, instructor/ [the checkout's]
``SHOPSIM_HUB_STATE``             folder for the hub's database, cookie secret and logs [/var/lib/shopsim-hub]
``SHOPSIM_HUB_IP``, ``_PORT``     where the hub listens [all addresses, 8000]; put TLS in front of it
``SHOPSIM_HUB_USER_ENV``          the Python environment users' servers run from [the hub's own]
``SHOPSIM_HUB_MEM_LIMIT``         memory per user process, e.g. 2G [2G]
``SHOPSIM_HUB_CPU_LIMIT``         cores per user [1]
``SHOPSIM_HUB_IDLE_TIMEOUT``      seconds before an idle server is stopped [3600]
================================  ====================================================================
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from shopsim_hub import LimitedSpawner, RosterAuthenticator, load_roster  # noqa: E402

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

env = os.environ.get
ROSTER = Path(env("SHOPSIM_HUB_ROSTER", str(HERE / "roster.csv")))
COURSE = Path(env("SHOPSIM_HUB_COURSE", str(HERE.parents[1] / "course")))
STATE = Path(env("SHOPSIM_HUB_STATE", "/var/lib/shopsim-hub"))
USER_ENV = Path(env("SHOPSIM_HUB_USER_ENV", sys.prefix))
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"

if not PROXY.exists():
    raise SystemExit(f"configurable-http-proxy is not installed in {PROXY.parent}; run {HERE / 'install-proxy.sh'}")
roster = load_roster(ROSTER)  # a bad roster stops the hub here, with every problem listed
STATE.mkdir(mode=0o700, parents=True, exist_ok=True)

# --- where the hub listens and keeps its state
c.JupyterHub.ip = env("SHOPSIM_HUB_IP", "")
c.JupyterHub.port = int(env("SHOPSIM_HUB_PORT", "8000"))
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

# --- people: the roster, one system user each
c.JupyterHub.authenticator_class = RosterAuthenticator
c.RosterAuthenticator.roster_file = str(ROSTER)
c.RosterAuthenticator.create_system_users = True
c.RosterAuthenticator.add_user_cmd = ["useradd", "--create-home", "--shell", "/bin/bash", "-K", "HOME_MODE=0700"]
c.Authenticator.allowed_users = set(roster)
c.Authenticator.admin_users = set()  # instructors get the narrower role below, not full admin
instructors = sorted(n for n, m in roster.items() if m.role == "instructor")

# --- roles
c.JupyterHub.load_roles = [
    {"name": "instructor", "description": "see the class, open and start/stop trainees' servers",
     "scopes": ["admin-ui", "list:users", "read:users", "read:servers", "servers", "access:servers"],
     "users": instructors},
    {"name": "idle-culler", "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
     "services": ["idle-culler"]},
]
IDLE_TIMEOUT = int(env("SHOPSIM_HUB_IDLE_TIMEOUT", "3600"))
c.JupyterHub.services = [
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={IDLE_TIMEOUT}"]},
]

# --- each person's server: their own user, limits, the course copied in
c.JupyterHub.spawner_class = LimitedSpawner
c.Spawner.cmd = [str(USER_ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.mem_limit = env("SHOPSIM_HUB_MEM_LIMIT", "2G")
c.Spawner.cpu_limit = float(env("SHOPSIM_HUB_CPU_LIMIT", "1"))
c.Spawner.environment = {"MPLBACKEND": "Agg"}
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 120


def _seed(spawner):
    from shopsim_hub import seed_home

    copied = seed_home(spawner.user.name, COURSE, load_roster(ROSTER))
    if copied:
        spawner.log.info("copied %d notebook(s) into %s's home", len(copied), spawner.user.name)


c.Spawner.pre_spawn_hook = _seed
