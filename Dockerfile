# syntax=docker/dockerfile:1
#
# Customer 360 middleware: production image.
#
#   docker build -t customer360:0.1.0 .
#   docker build --build-arg NODE_VERSION=24 -t customer360:0.1.0 .          # another Node line
#   docker build --build-arg NODE_IMAGE=node:26-trixie-slim@sha256:<digest> .  # pinned base
#
# Three stages: `deps` installs production dependencies only, `build` installs everything and
# compiles TypeScript, `runtime` gets the production node_modules, the compiled service
# (dist/src, never the sandbox under dist/test) and package.json. Needs BuildKit (the default
# builder since Docker 23) for the npm cache mounts.
#
# No HEALTHCHECK: Kubernetes probes /health/live and /health/ready (see helm/customer360).
# The process writes nothing to disk (JSON logs go to stdout), so it runs with a read-only root
# filesystem; the chart still mounts an emptyDir at /tmp.
#
# PID 1: node runs directly (exec-form ENTRYPOINT, no shell in between), so SIGTERM reaches it.
# As PID 1 node gets no default signal handling from the kernel, but the service installs its own
# SIGTERM/SIGINT handlers (graceful shutdown), and it starts no child processes, so there are no
# zombies to reap: an init such as tini is not needed.

# Current Node.js LTS. CI for this repository runs on Node 20 (engines: >=20.19).
ARG NODE_VERSION=26
ARG NODE_IMAGE=node:${NODE_VERSION}-trixie-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script at run time; skipping them keeps the install reproducible.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
# Everything the build script may need (sources, tsconfigs, assets); .dockerignore keeps out
# node_modules, dist, .git, test artefacts and local env files.
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# The service needs no package manager at run time: drop npm, npx, corepack and yarn (smaller
# image, fewer findings in image scans). Paths that a given Node line does not ship are ignored.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the service user: the running process cannot change its code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
# The image's `node` user, numerically, so Kubernetes can verify runAsNonRoot.
USER 1000:1000
# 3000: PORT (API, Genesys custom action); 9464: MANAGEMENT_PORT (/health, /metrics) as the chart sets it.
EXPOSE 3000 9464
# --max-semi-space-size: a young generation of up to 3 × 32 MiB instead of 3 × 16 MiB. A burst of
# cold look-ups allocates fast; with the default, garbage collection took 12-22 % of the service's
# CPU during the bench's shift change, about 6-9 % with this (README: Operations, memory).
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/src/main.js"]
