# Hibernia container image: small, non-root, no build tools in the final stage.
#
#   docker build -t hibernia:0.1.0 .
#   docker run --rm -p 8000:8000 -e HIBERNIA_DATABASE_URL=postgresql+asyncpg://... hibernia:0.1.0
#   docker run --rm -e HIBERNIA_DATABASE_URL=... hibernia:0.1.0 migrate
#
# Layout inside the image: /srv/hibernia holds app/, schema/, migrations/ and alembic.ini side by side,
# because app/db/migrate.py finds alembic.ini and migrations/ next to the directory containing app/.
# The project itself is therefore not pip-installed: its dependencies live in /opt/venv and the source
# is imported from /srv/hibernia through PYTHONPATH. `hibernia` on the PATH is a two-line wrapper
# around `python -m app.cli`, so `kubectl exec ... -- hibernia token create ...` works as documented.
#
# Pin the base image by digest in your registry mirror for reproducible builds, e.g.
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest> .
# Both stages must use the same image: the venv's interpreter is a symlink to its /usr/local/bin/python.
ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: resolve and install the runtime dependencies into a venv --------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
COPY pyproject.toml requirements.lock ./

# requirements.lock pins the whole development environment (pytest, mypy, ruff, kubernetes-validate,
# ...). The image needs only the runtime dependencies: take them from pyproject.toml's
# [project].dependencies and let the lock pin every one of them and all transitive dependencies
# (-c: constraints). --only-binary keeps compilers out of the build: every pinned package ships wheels.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > runtime-requirements.txt \
 && pip install --only-binary=:all: -r runtime-requirements.txt -c requirements.lock \
 && pip check

# Fail the build if anything in the venv is not pinned, at that exact version, by requirements.lock
# (a transitive dependency missing from the lock would otherwise float to its latest release).
RUN python -c "import importlib.metadata as md, re; \
norm = lambda name: re.sub(r'[-_.]+', '-', name).lower(); \
lock = {norm(n): v.strip() for n, _, v in (line.partition('==') for line in open('requirements.lock')) if v}; \
loose = sorted(f\"{d.metadata['Name']}=={d.version}\" for d in md.distributions() \
    if norm(d.metadata['Name']) not in {'pip', 'setuptools', 'wheel'} and lock.get(norm(d.metadata['Name'])) != d.version); \
assert not loose, f'not pinned by requirements.lock: {loose}'"

# The `hibernia` command, without installing the project into site-packages (see the top). Then drop
# pip and setuptools (~25 MB): nothing is installed at run time.
RUN printf '#!/bin/sh\nexec python -m app.cli "$@"\n' > /opt/venv/bin/hibernia \
 && chmod 0755 /opt/venv/bin/hibernia \
 && python -m pip uninstall --yes --quiet pip setuptools

# ---- runtime: the interpreter, the venv and only the files that run --------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="hibernia" \
      org.opencontainers.image.description="Hibernation-aware GraphQL API for Kubernetes apps"

# A fixed numeric uid/gid so Kubernetes can verify runAsNonRoot without a passwd lookup.
RUN groupadd --system --gid 10001 hibernia \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin hibernia

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv/hibernia \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HIBERNIA_ENV=production

COPY --from=builder /opt/venv /opt/venv

# Owned by root and not writable by the app user: the code cannot be changed at run time.
WORKDIR /srv/hibernia
COPY alembic.ini ./alembic.ini
COPY migrations/ ./migrations/
COPY schema/ ./schema/
COPY app/ ./app/
# Byte-compile now: at run time the root filesystem is read-only and PYTHONDONTWRITEBYTECODE is set.
RUN python -m compileall -q app schema migrations

USER 10001:10001
EXPOSE 8000

# For plain `docker run`; Kubernetes ignores it and uses the Deployment's probes.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# Migrations are not applied at start (--no-migrate): with several replicas they run once, from the
# `hibernia-migrate` Job in deploy/ (or `docker run ... migrate`).
ENTRYPOINT ["python", "-m", "app.cli"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]
