# syntax=docker/dockerfile:1
# billing-events: build with the official Swift image, run on Debian slim.
#   docker build -t billing-events .
#   docker compose up        (docker-compose.yml: PostgreSQL, migrate, two receivers, API, projector)
# The image has no embedded database: DATABASE_URL is required.
ARG SWIFT_VERSION=6.2
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The build directory is a cache mount (packages and objects survive between builds), so the
# outputs are copied out in the same step.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --product billing-events --static-swift-stdlib \
 && mkdir -p /staging \
 && bin="$(swift build -c release --show-bin-path)" \
 && cp "$bin/billing-events" /staging/ \
 && cp -R "$bin/billing-events_BillingStore.resources" /staging/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 zlib1g ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app billing
WORKDIR /app
COPY --from=build /staging/ /app/
USER billing
ENV HOST=0.0.0.0 PORT=8080 LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
# SIGTERM stops it gracefully (SHUTDOWN_GRACE_SECONDS, default 25; keep it below the orchestrator's kill timeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/billing-events"]
CMD ["serve", "--no-migrate"]
