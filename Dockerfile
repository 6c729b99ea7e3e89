# The streamproc command line in a container: `docker run IMAGE worker`, `... simulate`, and so on.
# docker-compose.yml builds it for the worker, the simulator and the topic set-up.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Versions are pinned by constraints.txt. README.md is left out because setuptools only warns
# when the package description file is missing.
COPY pyproject.toml constraints.txt ./
COPY streamproc ./streamproc
RUN pip install -c constraints.txt .

# Run as an unprivileged user that owns only the worker's data directory.
RUN useradd --create-home --uid 10001 streamproc \
    && install -d -o streamproc -g streamproc /var/lib/streamproc
USER streamproc
ENV STREAMPROC_DATA_DIR=/var/lib/streamproc

EXPOSE 9464
ENTRYPOINT ["streamproc"]
CMD ["--help"]
