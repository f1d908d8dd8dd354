"""Imports too large to run inside a request, run as jobs: the request keeps the file and
answers 202 at once, a `flask todo work` process (any number, on any host) reads and applies
it, and `GET …/imports/<id>` tells how it went, with the answer the request would have given.

The queue is RQ's, on the Redis of RATELIMIT_STORAGE_URI (docs/design.md says why RQ): a
job is a user's upload, independent of every other, which is the case a job queue is made
for (webhooks, whose messages keep an order per endpoint, are not). The file sits in a Redis
key of its own, deleted once its job has run, so a finished job keeps only its answer, for a
day. A user has at most IMPORT_JOBS_PER_USER imports waiting or running (429 beyond).
A job that fails (its worker broke, or was killed: RQ fails it once its heartbeat lapses)
answers a 500 problem that says to send the file again.

The job acts for the caller who sent the file, as the request would have: its token's
generation and id go with the job, so an import whose token was revoked in the meantime
answers 401 and writes nothing. Knows no HTTP: the answer is made by answers.py."""

import time
import uuid
from dataclasses import asdict, dataclass

import redis
from flask import Flask, current_app
from rq import Queue, SimpleWorker, get_current_job
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from ..accounts.tokens import Caller
from . import answers

QUEUE = "imports"
KEPT_SECONDS = 24 * 3600  # a job's answer, and a waiting job
# The longest a job may run before its worker stops it (20,000 CSV rows: ~6 s on one core);
# a job whose worker was killed reads `running` until RQ's clean-up in a live worker, every
# CLEANUP_SECONDS, finds its heartbeat (this long, and RQ's minute more) lapsed and fails it.
RUN_SECONDS = 120
CLEANUP_SECONDS = 60
WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.STARTED)
FAILED = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


@dataclass(frozen=True)
class Upload:
    """What an import job needs besides the file: who sent it (their token's user,
    generation and id), in whose account, its Content-Type, the list it goes into, and
    whether it is applied (else previewed)."""

    actor_id: str
    generation: int | None
    jti: str
    space_id: str
    kind: str
    list_id: str | None
    keep: bool

    @classmethod
    def of(cls, caller: Caller, kind: str, list_id: uuid.UUID | None, keep: bool) -> "Upload":
        return cls(
            str(caller.actor_id),
            caller.generation,
            caller.jti,
            str(caller.space_id),
            kind,
            None if list_id is None else str(list_id),
            keep,
        )

    @property
    def caller(self) -> Caller:
        return Caller(uuid.UUID(self.actor_id), self.generation, self.jti, uuid.UUID(self.space_id))


class TooManyImports(Exception):
    """A user's imports waiting or running are at IMPORT_JOBS_PER_USER."""

    def __init__(self, most: int):
        super().__init__(
            f"At most {most} imports may wait or run at once: wait for one to finish "
            "(GET …/imports/<id>), then send the file again."
        )
        self.retry_after = 5


class ImportJobNotFound(Exception):
    def __init__(self):
        super().__init__(
            "No such import: it is not yours, or its answer was kept a day and is gone."
        )


class QueueUnavailable(Exception):
    def __init__(self):
        super().__init__("The import queue (Redis) is not answering: try again shortly.")
        self.retry_after = 5


class FileGone(Exception):
    """A job whose file was no longer kept when a worker took it (it waited a day)."""


class Jobs:
    """One app's import queue: its Redis (short timeouts, as the throttles' counts have),
    the queue, and how many imports a user may have waiting."""

    def __init__(self, config: dict):
        self.redis = redis.Redis.from_url(
            config["RATELIMIT_STORAGE_URI"],
            socket_timeout=config["RATELIMIT_STORAGE_TIMEOUT"],
            socket_connect_timeout=config["RATELIMIT_STORAGE_TIMEOUT"],
        )
        self.prefix = config["RATELIMIT_KEY_PREFIX"]
        self.queue = Queue(self.prefix + QUEUE, connection=self.redis)
        self.inline_bytes = config["IMPORT_INLINE_BYTES"]
        self.most_waiting = config["IMPORT_JOBS_PER_USER"]

    def file_key(self, job_id: str) -> str:
        return f"{self.prefix}import-file:{job_id}"

    def waiting_key(self, space_id: str) -> str:
        return f"{self.prefix}imports-of:{space_id}"


def init_app(app: Flask) -> None:
    """The queue, when counts live in Redis; none (every import runs in its request) when
    they live in memory, as in the embedded default."""
    memory = app.config["RATELIMIT_STORAGE_URI"].startswith("memory://")
    app.extensions["import_jobs"] = None if memory else Jobs(app.config)


def queued(size: int) -> bool:
    """Whether a file of `size` bytes is imported by a job (there is a queue, and the file
    is larger than IMPORT_INLINE_BYTES)."""
    jobs = current_app.extensions["import_jobs"]
    return jobs is not None and size > jobs.inline_bytes


def enqueue(upload: Upload, body: bytes) -> Job:
    """The file kept and its job queued; TooManyImports if the user already has their
    share waiting, QueueUnavailable if Redis does not answer. The job's place among the
    user's waiting imports is taken first, in one transaction with the count, so that
    requests at once cannot all pass the cap; it is given back if the job is not queued."""
    jobs: Jobs = current_app.extensions["import_jobs"]
    job_id, key = str(uuid.uuid4()), jobs.waiting_key(upload.space_id)
    try:
        forget_ended(jobs, key)
        with jobs.redis.pipeline() as taken:
            taken.zadd(key, {job_id: time.time()}).zcard(key).expire(key, KEPT_SECONDS)
            waiting = taken.execute()[1]
        if waiting > jobs.most_waiting:
            jobs.redis.zrem(key, job_id)
            raise TooManyImports(jobs.most_waiting)
        try:
            jobs.redis.set(jobs.file_key(job_id), body, ex=KEPT_SECONDS)
            return jobs.queue.enqueue(
                run,
                asdict(upload),
                job_id=job_id,
                meta={"owner": upload.space_id, "preview": not upload.keep},
                job_timeout=RUN_SECONDS,
                ttl=KEPT_SECONDS,
                result_ttl=KEPT_SECONDS,
                failure_ttl=KEPT_SECONDS,
            )
        except redis.RedisError:
            jobs.redis.zrem(key, job_id)
            jobs.redis.delete(jobs.file_key(job_id))
            raise
    except redis.RedisError:
        raise QueueUnavailable() from None


def forget_ended(jobs: Jobs, key: str) -> None:
    """Take the imports that ended off a user's waiting ones, and places whose job is gone
    (a place is taken before its job is queued: one of another request is left alone for a
    minute)."""
    placed = {each.decode(): at for each, at in jobs.redis.zrange(key, 0, -1, withscores=True)}
    found = Job.fetch_many(list(placed), connection=jobs.redis) if placed else []
    recent = time.time() - 60
    ended = [
        job_id
        for (job_id, at), job in zip(placed.items(), found, strict=True)
        if (job is None and at < recent)
        or (job is not None and job.get_status(refresh=False) not in WAITING)
    ]
    if ended:
        jobs.redis.zrem(key, *ended)


def job_of(caller: Caller, job_id: uuid.UUID) -> Job:
    """The caller's import job; ImportJobNotFound for another user's, or one gone."""
    jobs: Jobs | None = current_app.extensions["import_jobs"]
    if jobs is None:
        raise ImportJobNotFound()
    try:
        job = Job.fetch(str(job_id), connection=jobs.redis)
    except NoSuchJobError:
        raise ImportJobNotFound() from None
    except redis.RedisError:
        raise QueueUnavailable() from None
    if job.origin != jobs.queue.name or job.meta.get("owner") != str(caller.space_id):
        raise ImportJobNotFound()
    return job


def state(job: Job) -> dict:
    """How a job stands: waiting, running, or finished with the request's answer (a
    failed job, one whose worker stopped or broke, answers a 500 problem)."""
    try:
        status = job.get_status()
        found = {
            "id": job.id,
            "preview": job.meta["preview"],
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.ended_at,
            "state": "running" if status == JobStatus.STARTED else "queued",
        }
        if status == JobStatus.FINISHED:
            answer = job.return_value()
            if answer is None:  # its answer lapsed as we read it
                raise ImportJobNotFound()
            found.update(state="finished", **answer)
        elif status in FAILED:
            found.update(state="failed", **answers.interrupted())
    except InvalidJobOperation:  # the job lapsed as we read it
        raise ImportJobNotFound() from None
    except redis.RedisError:
        raise QueueUnavailable() from None
    return found


def run(fields: dict) -> dict:
    """The job, in a `flask todo work` process: the import run as its request would have run
    it, its answer kept (`{"status", "report"}` or `{"status", "problem"}`), the file
    deleted."""
    jobs: Jobs = current_app.extensions["import_jobs"]
    upload = Upload(**fields)
    key = jobs.file_key(get_current_job().id)
    try:
        body = jobs.redis.get(key)
        if body is None:
            raise FileGone()  # the job fails: send the file again
        list_id = None if upload.list_id is None else uuid.UUID(upload.list_id)
        return answers.answer(upload.caller, upload.kind, body, list_id, upload.keep)
    finally:
        jobs.redis.delete(key)


def worker(app: Flask) -> SimpleWorker | None:
    """A worker of the app's import queue that runs each job in this process (so in the app's
    context, which `flask` made), with a Redis connection of its own, with no timeout, that
    waits for jobs; None when there is no queue."""
    jobs: Jobs | None = app.extensions["import_jobs"]
    if jobs is None:
        return None
    waits = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    queue = Queue(jobs.queue.name, connection=waits)
    return SimpleWorker(
        [queue],
        connection=waits,
        log_job_description=False,
        maintenance_interval=CLEANUP_SECONDS,
    )
