"""Where a batch's tasks run, behind one small interface: a local process pool, or a Dask cluster.

Both speak :mod:`concurrent.futures` (a Dask ``Client``'s ``get_executor()``
returns futures of that kind), so the batch service is the same code for
both. The executors differ only in what happens when a worker dies: a
local :class:`~concurrent.futures.ProcessPoolExecutor` breaks as a whole
(the service rebuilds it and resubmits what was running), while Dask's
scheduler reruns a lost worker's task elsewhere by itself.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol
from urllib.parse import urlparse

from ctreview.batch.task import init_worker, score_one, usable_cores, warm_up
from ctreview.errors import CtreviewError


class BatchExecutor(Protocol):
    """What the batch service asks of an executor."""

    kind: str
    workers: int
    threads: dict[str, int]

    def submit(self, job: dict[str, Any]) -> cf.Future[dict[str, Any]]:
        """Start :func:`~ctreview.batch.task.score_one` on ``job``."""

    def lost_worker(self, exc: BaseException) -> bool:
        """Whether ``exc`` (from a future) means its worker died, so the volume may be retried."""

    def recover(self) -> None:
        """Make the executor usable again after a lost worker."""

    def close(self, cancel: bool = False) -> None:
        """Release the workers; with ``cancel``, stop the running tasks too."""


def default_workers() -> tuple[int, int]:
    """``(workers, gpus)``: one worker per visible GPU, else one per two cores (at least one)."""
    gpus = 0
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) != "":
        try:
            import torch

            gpus = int(torch.cuda.device_count())
        except Exception:  # noqa: BLE001 - no usable CUDA: a CPU batch
            gpus = 0
    return (gpus, gpus) if gpus else (max(1, usable_cores() // 2), 0)


def threads_per_worker(workers: int) -> int:
    """Torch threads of each of ``workers`` local workers: ``CTREVIEW_THREADS``, else cores // workers."""
    env = os.environ.get("CTREVIEW_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, usable_cores() // max(1, workers))


class LocalExecutor:
    """A pool of ``workers`` spawned processes on this machine.

    Parameters
    ----------
    workers : int
    threads : int
        Torch threads per process.
    gpus : int
        GPUs to share out, one per process in turn (0: CPU).
    """

    kind = "local"

    def __init__(self, workers: int, threads: int, gpus: int = 0) -> None:
        self.workers, self.gpus = max(1, int(workers)), int(gpus)
        self.threads = {"*": int(threads)}
        # spawn, not fork: the client may hold torch threads, which a fork would copy mid-state
        self._context = multiprocessing.get_context("spawn")
        self._counter = self._context.Value("i", 0)
        self._pool: cf.ProcessPoolExecutor | None = None  # started by the first volume to score

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(self.workers, mp_context=self._context, initializer=init_worker,
                                      initargs=(self.threads["*"], self.gpus, self._counter))

    def submit(self, job: dict[str, Any]) -> cf.Future[dict[str, Any]]:
        if self._pool is None:
            self._pool = self._new_pool()
        return self._pool.submit(score_one, job)

    def lost_worker(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)

    def recover(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def close(self, cancel: bool = False) -> None:
        if self._pool is None:
            return
        if cancel:
            # the pool cannot interrupt a running task: end its processes (ours, by id)
            for process in list(getattr(self._pool, "_processes", {}).values()):
                if process.is_alive():
                    process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """The workers of a running Dask scheduler (``dask scheduler`` / ``dask worker``).

    Parameters
    ----------
    scheduler : str or distributed.Client
        ``tcp://host:port`` of the scheduler, or a connected client (tests, notebooks).
    retries : int
        Reruns of a task that raised (a lost worker's task is rerun by the scheduler itself).
    """

    kind = "dask"

    def __init__(self, scheduler: Any, retries: int = 2, timeout: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise CtreviewError(None, "--scheduler needs Dask: pip install 'ctreview[dask]'") from None
        self._own = isinstance(scheduler, str)
        try:
            self.client = Client(scheduler, timeout=timeout, set_as_default=False) if self._own else scheduler
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            raise CtreviewError(scheduler if self._own else None,
                                f"cannot use the Dask scheduler ({' '.join(str(exc).split()) or type(exc).__name__})"
                                ) from None
        workers = self.client.scheduler_info()["workers"]
        self.workers = sum(int(w.get("nthreads", 1)) for w in workers.values())
        self.threads = self._threads_by_host(workers)
        self.client.run(warm_up)  # every worker imports torch at once, not one volume at a time
        gpu = bool(workers) and all("GPU" in (w.get("resources") or {}) for w in workers.values())
        self._executor = self.client.get_executor(pure=False, retries=int(retries),
                                                  resources={"GPU": 1} if gpu else None)

    def _threads_by_host(self, workers: dict[str, Any]) -> dict[str, int]:
        """Cores of each host over the Dask threads running on it (at least 1)."""
        cores = self.client.run(usable_cores)
        per_host: dict[str, list[int]] = {}
        for address, info in workers.items():
            host = urlparse(address).hostname or address
            slot = per_host.setdefault(host, [0, 0])
            slot[0] = max(slot[0], int(cores.get(address, 1)))
            slot[1] += int(info.get("nthreads", 1))
        return {host: max(1, c // max(1, n)) for host, (c, n) in per_host.items()}

    def submit(self, job: dict[str, Any]) -> cf.Future[dict[str, Any]]:
        return self._executor.submit(score_one, {**job, "threads": None, "threads_by_host": self.threads})

    def lost_worker(self, exc: BaseException) -> bool:
        return False  # the scheduler already retried; KilledWorker is final

    def recover(self) -> None:
        pass

    def close(self, cancel: bool = False) -> None:
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=not cancel)
        if self._own and getattr(self, "client", None) is not None:
            self.client.close()


def make_executor(workers: int | None = None, scheduler: Any = None, retries: int = 2) -> BatchExecutor:
    """The local pool (``scheduler`` None) or the Dask cluster at ``scheduler``.

    Locally, ``workers`` None means one worker per visible GPU, else one per
    two cores; with GPUs, the workers take them in turn.
    """
    if scheduler is not None:
        return DaskExecutor(scheduler, retries)
    default, gpus = default_workers()
    workers = default if workers is None else workers
    return LocalExecutor(workers, threads_per_worker(workers), gpus)
