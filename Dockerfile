# syntax=docker/dockerfile:1
# The DMS server image: the two binaries (`dms`, `migration`) built with
# cargo's caches mounted (rebuilds reuse the registry and the target dir),
# then copied alone into a slim runtime image that runs as a non-root user
# with its data in a volume.
#
#   docker build -t dms .
#   docker run -e DATABASE_URL=postgres://... -e DMS_JWT_SECRET=... -v dms-data:/data -p 5000:5000 dms
#   docker run --rm -e DATABASE_URL=postgres://... dms migration up

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# target/ lives in a cache mount, so the binaries are copied out of it in
# the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin dms --bin migration \
    && mkdir -p /out \
    && cp target/release/dms target/release/migration /out/

FROM debian:bookworm-slim
# ca-certificates: TLS to a managed database or object store; curl: the
# health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin dms \
    && mkdir -p /data \
    && chown dms:dms /data
COPY --from=builder /out/dms /out/migration /usr/local/bin/
USER dms
WORKDIR /data
ENV DMS_DATA_DIR=/data \
    DMS_BIND=0.0.0.0:5000
VOLUME ["/data"]
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:5000/api/health >/dev/null || exit 1
CMD ["dms", "serve"]
