# syntax=docker/dockerfile:1
#
# One image for every Slotwise process:
#   API (default):  node dist/src/main.js
#   consumers:      node dist/src/cli/consumer.js provider|customer
#   queue setup:    node dist/src/cli/queues-setup.js [--fifo]
#   admin account:  node dist/src/cli/create-admin.js --email … --password …
# Build: docker build -t slotwise .   (docker-compose.yml builds it for the whole stack)

# Node 24 LTS is required (package.json "engines"; Node 20 is end of life since April 2026);
# every node:24 image satisfies it. Pin a digest here for
# reproducible production builds.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# argon2 ships prebuilt binaries, but its installer compiles from source whenever the prebuilt
# one fails its load test (it does on some CPUs/kernels). Keeping a toolchain here makes that
# fallback work instead of failing `npm ci`; it never reaches the runtime image. The Node image
# carries its own headers, so node-gyp needs no download.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# The lock file and package.json "overrides" pin every platform binary (@swc/core, unrs-resolver):
# npm ci installs exactly that tree, dev dependencies included (tsc is one).
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY scripts scripts
# `npm run build` = tsc -b tsconfig.build.json: src/ and scripts/ into dist/src and dist/scripts
# (its incremental record, dist/tsconfig.build.tsbuildinfo, is of no use in the image).
RUN npm run build \
 && rm -f dist/tsconfig.build.tsbuildinfo \
 && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
# Root-owned and read-only for the process; only .data/ (embedded PGlite and the consumers'
# fallback store, used only when DATABASE_URL is unset) is writable by the `node` user.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# Applied at start-up by the API and the consumers (src/db/client.ts finds ../drizzle from dist/).
COPY drizzle drizzle
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 4000
# Readiness, not liveness: healthy only when PostgreSQL (and Redis, if configured) answer, so
# `depends_on: condition: service_healthy` also means "migrations have run". Consumer
# containers serve no HTTP and must disable this check (docker-compose.yml does).
# The start period covers migrations on a cold database.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (graceful shutdown in src/main.ts).
CMD ["node", "dist/src/main.js"]
