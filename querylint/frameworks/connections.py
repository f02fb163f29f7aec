"""Connection-family view of the project: what opens connections, and what is slow external work.

* :data:`RESOURCE_CONSTRUCTORS`: qualified constructors of connections, pools, engines,
  session factories, sessions and clients (DB-API drivers, SQLAlchemy, Redis, MongoDB, ...).
* :func:`module_resources`: every module-level name of the project bound to one of them
  (``engine = create_engine(...)``, ``SessionLocal = sessionmaker(...)``, ``pool = ...``),
  computed once per run through ``index.derived``.
* :func:`slow_paths`: project functions that do slow external work (HTTP, sleeps,
  subprocesses, SDK calls) themselves or through the functions they call, with the call path.

Pure functions over the index facts; rules use them through ``ctx.index``.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Tuple

from querylint.frameworks.dbapi import CONNECT_FUNCS, ENGINE_FUNCS, POOL_FUNCS
from querylint.project.index import ProjectIndex, memoised


@dataclass(frozen=True)
class Resource:
    kind: str  # connection, pool, engine, sessionmaker, scoped, session, client
    label: str  # words for messages: "database connection", "engine and connection pool", ...
    driver: Optional[str] = None


SESSIONMAKERS = {
    "sqlalchemy.orm.sessionmaker": "sessionmaker",
    "sqlalchemy.orm.session.sessionmaker": "sessionmaker",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sessionmaker",
    "sqlalchemy.orm.scoped_session": "scoped",
    "sqlalchemy.orm.scoping.scoped_session": "scoped",
    "sqlalchemy.ext.asyncio.async_scoped_session": "scoped",
}
SESSIONS = {"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session", "sqlalchemy.ext.asyncio.AsyncSession", "sqlmodel.Session"}
CLIENTS = {
    "redis.Redis": "Redis client (with its own connection pool)",
    "redis.StrictRedis": "Redis client (with its own connection pool)",
    "redis.client.Redis": "Redis client (with its own connection pool)",
    "redis.client.StrictRedis": "Redis client (with its own connection pool)",
    "redis.from_url": "Redis client (with its own connection pool)",
    "redis.Redis.from_url": "Redis client (with its own connection pool)",
    "redis.StrictRedis.from_url": "Redis client (with its own connection pool)",
    "redis.asyncio.Redis": "Redis client (with its own connection pool)",
    "redis.asyncio.from_url": "Redis client (with its own connection pool)",
    "redis.asyncio.Redis.from_url": "Redis client (with its own connection pool)",
    "redis.asyncio.client.Redis": "Redis client (with its own connection pool)",
    "aioredis.Redis": "Redis client (with its own connection pool)",
    "aioredis.from_url": "Redis client (with its own connection pool)",
    "aioredis.create_redis_pool": "Redis connection pool",
    "redis.ConnectionPool": "Redis connection pool",
    "redis.BlockingConnectionPool": "Redis connection pool",
    "redis.ConnectionPool.from_url": "Redis connection pool",
    "redis.asyncio.ConnectionPool": "Redis connection pool",
    "redis.asyncio.ConnectionPool.from_url": "Redis connection pool",
    "pymongo.MongoClient": "MongoDB client (with its own connection pool)",
    "pymongo.mongo_client.MongoClient": "MongoDB client (with its own connection pool)",
    "motor.motor_asyncio.AsyncIOMotorClient": "MongoDB client (with its own connection pool)",
    "mongoengine.connect": "MongoDB client (with its own connection pool)",
    "databases.Database": "database connection pool",
    "peewee.PostgresqlDatabase": "peewee database (with its own connections)",
    "peewee.MySQLDatabase": "peewee database (with its own connections)",
    "playhouse.pool.PooledPostgresqlDatabase": "peewee connection pool",
    "playhouse.pool.PooledMySQLDatabase": "peewee connection pool",
    "playhouse.postgres_ext.PostgresqlExtDatabase": "peewee database (with its own connections)",
    "pymemcache.client.base.Client": "memcached client",
    "elasticsearch.Elasticsearch": "Elasticsearch client (with its own connection pool)",
    "cassandra.cluster.Cluster": "Cassandra cluster client (with its own connection pool)",
    "clickhouse_driver.Client": "ClickHouse client",
}
EXTRA_CONNECTS = {"mysql.connector.connect": "mysql-connector", "mariadb.connect": "mariadb", "psycopg.AsyncConnection.connect": "psycopg"}
EXTRA_POOLS = {
    "psycopg_pool.ConnectionPool": "psycopg", "psycopg_pool.AsyncConnectionPool": "psycopg",
    "mysql.connector.pooling.MySQLConnectionPool": "mysql-connector", "asyncpg.pool.create_pool": "asyncpg",
    "aiomysql.create_pool": "aiomysql", "aiopg.create_pool": "aiopg", "aiopg.sa.create_engine": "aiopg",
    "aiomysql.sa.create_engine": "aiomysql",
}


def resource_of(qualname: Optional[str]) -> Optional[Resource]:
    """The resource a qualified constructor makes, if it is one we know."""
    if not qualname:
        return None
    if qualname in CONNECT_FUNCS or qualname in EXTRA_CONNECTS:
        driver = CONNECT_FUNCS.get(qualname) or EXTRA_CONNECTS.get(qualname)
        if driver == "databases":
            return Resource("pool", "database connection pool", driver)
        return Resource("connection", "database connection", driver)
    if qualname in POOL_FUNCS or qualname in EXTRA_POOLS:
        return Resource("pool", "connection pool", POOL_FUNCS.get(qualname) or EXTRA_POOLS.get(qualname))
    if qualname in ENGINE_FUNCS:
        return Resource("engine", "engine (and connection pool)", "sqlalchemy")
    if qualname in SESSIONMAKERS:
        kind = SESSIONMAKERS[qualname]
        label = "session factory" if kind == "sessionmaker" else "scoped session registry"
        return Resource(kind, label, "sqlalchemy")
    if qualname in SESSIONS:
        return Resource("session", "session", "sqlalchemy")
    if qualname in CLIENTS:
        return Resource("client", CLIENTS[qualname], qualname.split(".")[0])
    return None


def module_resources(index: ProjectIndex) -> Dict[str, Resource]:
    """{qualified module-level name: Resource} for every project module (``app.db.engine``)."""

    def compute(ix: ProjectIndex) -> Dict[str, Resource]:
        out: Dict[str, Resource] = {}
        for facts in ix.files.values():
            for name, call in facts.module_calls:
                res = resource_of(call.func)
                if res is None and call.func in SESSIONMAKERS:
                    res = resource_of(call.func)
                if res is None:
                    # ``Session = scoped_session(sessionmaker(...))``
                    inner = call.nested("0")
                    if inner is not None and call.func.rsplit(".", 1)[-1] in ("scoped_session", "async_scoped_session"):
                        res = Resource("scoped", "scoped session registry", "sqlalchemy")
                if res is not None:
                    out[f"{facts.module}.{name}"] = res
        return out

    return index.derived("connections.module_resources", compute)


def module_resource(index: ProjectIndex, qualname: Optional[str]) -> Optional[Resource]:
    """The resource a module-level name holds, by exact name or a unique module-suffix match."""
    if not qualname:
        return None
    table = module_resources(index)
    hit = table.get(qualname)
    if hit is not None or "." not in qualname:
        return hit
    suffix = "." + qualname
    matches = [r for q, r in table.items() if ("." + q).endswith(suffix)]
    return matches[0] if len(matches) == 1 else None


# ---------------------------------------------------------------------------- slow external work

HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "send"}
SLOW_FUNCTIONS = {
    "time.sleep": "`time.sleep()`",
    "asyncio.sleep": "`asyncio.sleep()`",
    "urllib.request.urlopen": "an HTTP call (`urlopen`)",
    "urllib.urlopen": "an HTTP call (`urlopen`)",
    "urllib2.urlopen": "an HTTP call (`urlopen`)",
    "subprocess.run": "a subprocess",
    "subprocess.call": "a subprocess",
    "subprocess.check_call": "a subprocess",
    "subprocess.check_output": "a subprocess",
    "subprocess.Popen": "a subprocess",
    "os.system": "a subprocess",
    "os.popen": "a subprocess",
    "asyncio.create_subprocess_exec": "a subprocess",
    "asyncio.create_subprocess_shell": "a subprocess",
    "smtplib.SMTP": "an SMTP connection",
    "smtplib.SMTP_SSL": "an SMTP connection",
    "django.core.mail.send_mail": "sending mail (`send_mail`)",
    "django.core.mail.send_mass_mail": "sending mail (`send_mass_mail`)",
    "django.core.mail.mail_admins": "sending mail (`mail_admins`)",
    "socket.create_connection": "a network connection",
    "aiohttp.request": "an HTTP call (aiohttp)",
}
SLOW_MODULE_VERBS = {"requests": "HTTP", "httpx": "HTTP", "urllib3": "HTTP", "grequests": "HTTP"}
# modules whose every call is network I/O (SDKs)
SLOW_SDK_MODULES = {"stripe", "twilio", "sendgrid", "slack_sdk", "openai", "anthropic", "paramiko", "ftplib", "braintree", "paypalrestsdk", "mailchimp3"}
# constructors of clients whose method calls are network I/O
SLOW_CLIENTS = {
    "requests.Session": "HTTP", "requests.session": "HTTP", "httpx.Client": "HTTP", "httpx.AsyncClient": "HTTP",
    "aiohttp.ClientSession": "HTTP", "urllib3.PoolManager": "HTTP", "boto3.client": "AWS", "boto3.resource": "AWS",
    "boto3.session.Session": "AWS", "boto3.Session": "AWS", "smtplib.SMTP": "SMTP", "smtplib.SMTP_SSL": "SMTP",
    "openai.OpenAI": "OpenAI", "openai.AsyncOpenAI": "OpenAI", "anthropic.Anthropic": "Anthropic",
    "twilio.rest.Client": "Twilio", "stripe.StripeClient": "Stripe", "google.cloud.storage.Client": "Google Cloud",
    "slack_sdk.WebClient": "Slack",
}


def article(word: str) -> str:
    """``a``/``an`` before a service name (``an HTTP call``, ``an AWS call``, ``a Stripe call``)."""
    return "an" if word[:1] in "AEIOU" or word.startswith(("HTTP", "SMTP")) else "a"


def slow_target(qualname: Optional[str]) -> Optional[str]:
    """A description when calling ``qualname`` (a resolved dotted name) is slow external work."""
    if not qualname:
        return None
    if qualname in SLOW_FUNCTIONS:
        return SLOW_FUNCTIONS[qualname]
    head, _, rest = qualname.partition(".")
    last = qualname.rsplit(".", 1)[-1]
    if head in SLOW_MODULE_VERBS and rest and "." not in rest and last in HTTP_VERBS:
        return f"an HTTP call (`{qualname}`)"
    if head == "boto3" and rest and last not in ("client", "resource", "Session", "session"):
        return f"an AWS call (`{qualname}`)"
    if head in SLOW_SDK_MODULES and rest and last[:1].islower():
        return f"a network call (`{qualname}`)"
    return None


def _paths_to(ix: ProjectIndex, seed, max_len: int = 0) -> Dict[str, Tuple[str, ...]]:
    """{function qualname: (f, g, ..., description)}: the functions ``seed(fn)`` describes (it
    returns a description or None), and their callers up the call graph (paths of at most
    ``max_len`` functions when given)."""
    callers: Dict[str, List[str]] = {}
    paths: Dict[str, Tuple[str, ...]] = {}
    queue: Deque[str] = deque()
    # a function that serves its result from a memo (``@lru_cache``, ``global _X; if _X: return
    # _X``) does the work once per process, not on every call
    once = {q for q, fn in ix.functions.items() if memoised(fn.decorators) or fn.memo_guarded}
    for q, fn in sorted(ix.functions.items()):
        desc = seed(fn) if q not in once else None
        if desc is not None:
            paths[q] = (q, desc)
            queue.append(q)
        for callee in ix.callees(q):
            callers.setdefault(callee, []).append(q)
    while queue:
        current = queue.popleft()
        for caller in sorted(callers.get(current, ())):
            if caller not in paths and caller not in once and (not max_len or len(paths[current]) < max_len):
                paths[caller] = (caller,) + paths[current]
                queue.append(caller)
    return paths


def slow_paths(index: ProjectIndex) -> Dict[str, Tuple[str, ...]]:
    """{function qualname: (f, g, ..., description)}: a project function doing slow external work."""

    def compute(ix: ProjectIndex) -> Dict[str, Tuple[str, ...]]:
        clients = module_clients(ix)
        factories = _client_factories(ix)

        def slow(fn) -> Optional[str]:
            handed_out = {callee for callee, _shape in fn.returned_calls}
            for target in fn.calls:
                if target in fn.retry_only_calls and target.endswith("sleep"):
                    continue  # a backoff between retries: slow only after a failure
                made = _factory(ix, target, fn, factories)
                if target in handed_out and (target in SLOW_CLIENTS or made is not None):
                    continue  # a factory (``session = requests.session(); ...; return session``): made, not used here
                if made is not None:
                    # the caller of a factory uses what it gets: ``_storage_api_session().post(...)``
                    return f"{article(made[1])} {made[1]} call (a client from `{made[0]}()`)"
                desc = slow_target(target) or _client_call(target, fn.module, clients)
                if desc is not None:
                    return desc
            return None

        return _paths_to(ix, slow)

    return index.derived("connections.slow_paths", compute)


# methods that hand a job to a queue (Celery, RQ): a broker round trip per call, the job's real work elsewhere
ENQUEUE_METHODS = frozenset({"delay", "apply_async", "send_task", "enqueue", "enqueue_call", "enqueue_at", "enqueue_in"})


def queued_paths(index: ProjectIndex) -> Dict[str, Tuple[str, ...]]:
    """{function qualname: (f, g, ..., description)}: a project function that hands a job to a
    queue (``send_email_task.delay(payload)``), directly or through the functions it calls."""

    def queues(fn) -> Optional[str]:
        for target in fn.calls:
            head, _, last = target.rpartition(".")
            if last in ENQUEUE_METHODS and head and head.split(".")[0] not in ("self", "cls"):
                return f"a job queued (`{head.rsplit('.', 1)[-1]}.{last}`)"
        return None

    return index.derived("connections.queued_paths", lambda ix: _paths_to(ix, queues, max_len=5))


def module_clients(index: ProjectIndex) -> Dict[str, str]:
    """{qualified module-level name: service} for HTTP/SDK clients (``http = requests.Session()``)."""

    def compute(ix: ProjectIndex) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for facts in ix.files.values():
            for name, call in facts.module_calls:
                if call.func in SLOW_CLIENTS:
                    out[f"{facts.module}.{name}"] = SLOW_CLIENTS[call.func]
        return out

    return index.derived("connections.module_clients", compute)


def _client_factories(ix: ProjectIndex) -> Dict[str, str]:
    """{qualname: service} of project functions that hand out a client they make (``session =
    requests.session(); ...; return session``) or one another factory makes."""
    out: Dict[str, str] = {}
    for _ in range(4):  # factories of factories, a few levels
        grew = False
        for q, fn in ix.functions.items():
            if q in out:
                continue
            for callee, _shape in fn.returned_calls:
                hit = ix.resolve_function(callee, fn) if callee not in SLOW_CLIENTS else None
                service = SLOW_CLIENTS.get(callee) or (out.get(hit.qualname) if hit is not None else None)
                if service:
                    out[q] = service
                    grew = True
                    break
        if not grew:
            break
    return out


def _factory(ix: ProjectIndex, target: str, fn, factories: Dict[str, str]) -> Optional[Tuple[str, str]]:
    """(name, service) when ``target`` (called in ``fn``) is a client factory of the project."""
    if not factories or target in SLOW_CLIENTS:
        return None
    hit = ix.resolve_function(target, fn)
    service = factories.get(hit.qualname) if hit is not None else None
    return (hit.name, service) if hit is not None and service else None


def _client_call(target: str, module: str, clients: Dict[str, str]) -> Optional[str]:
    """A call on a module-level client (``http.post`` in its module, ``app.clients.s3.put_object``),
    or a client made inside the function (``httpx.AsyncClient()``: it is made to be used)."""
    if target in SLOW_CLIENTS:
        return f"{article(SLOW_CLIENTS[target])} {SLOW_CLIENTS[target]} call (`{target}`)"
    owner, _, method = target.rpartition(".")
    if not owner or method in ("close", "aclose"):
        return None
    for candidate in (owner, f"{module}.{owner}"):
        service = clients.get(candidate)
        if service is not None:
            return f"{article(service)} {service} call (`{target.rsplit('.', 2)[-2]}.{method}`)"
    return None
