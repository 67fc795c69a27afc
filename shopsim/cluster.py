"""Where many simulations run: a Dask cluster, local or remote.

A sweep over seeds or a cohort's capstone is a bag of independent tasks, one per
(policy, scenario, seed). They are handed to `Dask distributed <https://distributed.dask.org>`_:

- ``scheduler="tcp://host:8786"`` connects to a running ``dask scheduler`` whose workers
  (``dask worker tcp://host:8786``, one or more per machine) do the work;
- no address starts a ``LocalCluster`` on this machine, one single-threaded worker process per
  core (simulations hold the GIL, so processes, not threads).

Workers must be able to ``import shopsim`` (the same version as the client), and grading
tasks need ``bwrap`` on the worker's machine: a notebook or a capstone policy runs in a
sandbox started by the worker (with :mod:`subprocess`, so Dask's default *daemonic* worker
processes do; see ``docs/deploy.md``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shopsim.errors import ShopsimError

if TYPE_CHECKING:  # dask is imported only when a cluster is used
    from distributed import Client

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 20.0


class ClusterError(ShopsimError):
    """The cluster cannot be reached or cannot run shopsim's tasks."""


def local_workers() -> int:
    """Worker processes a ``LocalCluster`` gets: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client for ``scheduler``, or for a ``LocalCluster`` started (and stopped) here.

    Parameters
    ----------
    scheduler:
        Address of a running ``dask scheduler`` (``tcp://host:port``), or None for a
        ``LocalCluster`` on this machine.
    workers:
        Worker processes of the ``LocalCluster`` (default: one per core); ignored with a
        scheduler address.

    Raises
    ------
    ClusterError
        When the scheduler does not answer within :data:`CONNECT_TIMEOUT` seconds.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with "
                               "`dask scheduler` and give its tcp://host:port") from None
        with client:
            yield client
        return
    n = workers or local_workers()
    with dask.config.set({"distributed.logging.distributed": "error"}), \
            LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                         silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def run_tasks(client: Client, task: Callable[..., Any], calls: Sequence[tuple[Any, ...]],
              on_done: Callable[[int], None] | None = None, labels: Sequence[str] | None = None) -> list[Any]:
    """Run ``task(*args)`` for each ``args`` in ``calls`` on the cluster; results in call order.

    ``on_done(i)`` is called as call ``i`` finishes (a progress bar). ``labels`` name the tasks
    (their Dask keys start with the label, as seen on the dashboard and in the task stream).
    Large arguments shared by many calls (a scenario) should be passed once through
    ``client.scatter`` by the caller.
    """
    import uuid

    from distributed import as_completed

    names = labels if labels is not None else [task.__name__] * len(calls)
    futures = [client.submit(task, *args, key=f"{name}-{uuid.uuid4().hex}") for name, args in zip(names, calls,
                                                                                                  strict=True)]
    index = {f.key: i for i, f in enumerate(futures)}
    try:
        for future in as_completed(futures):
            if on_done is not None:
                on_done(index[future.key])
        return client.gather(futures)
    finally:
        client.cancel(futures)


@dataclass(frozen=True)
class Packed:
    """A function pickled here with cloudpickle, so a worker can rebuild it without importing its module.

    Dask pickles task arguments by reference when it can, and a worker on another machine
    cannot import a trainee's file or a test module; cloudpickle sends functions of
    ``__main__`` (a notebook, a script) and of modules registered with
    ``cloudpickle.register_pickle_by_value`` by value.
    """

    data: bytes

    @classmethod
    def of(cls, function: Callable[..., Any]) -> Packed:
        """Pack ``function``."""
        import cloudpickle

        return cls(cloudpickle.dumps(function))

    def unpack(self) -> Callable[..., Any]:
        """The function again."""
        import pickle

        return pickle.loads(self.data)


def unpacked(function: Callable[..., Any] | Packed | None) -> Callable[..., Any] | None:
    """``function`` itself, or rebuilt when it is :class:`Packed`."""
    return function.unpack() if isinstance(function, Packed) else function

