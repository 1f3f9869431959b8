# syntax=docker/dockerfile:1
# The beamnode probe image: `beamnode probe …`, `beamnode lint …`, `beamnode epmd …`.
#
#   docker build -t beamnode .
#   docker run --rm beamnode --help
#   docker run --rm -v "$PWD/k8s:/m:ro" beamnode lint /m
#
# Node 22: the current LTS line. Any Node that meets package.json `engines` (>= 20.16) works.
ARG NODE_IMAGE=node:22-slim

# --- build: dev dependencies + tsc ------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts are erlpack (a native benchmark baseline; needs a
# C++ toolchain) and esbuild (tsx, for tests); compiling needs neither.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies + dist, non-root ---------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The probe's --kubernetes needs @kubernetes/client-node, an optional peer dependency of the
# library (npm installs no optional peer): the image makes it a dependency of its own copy.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && K8S="$(node -p "require('./package.json').peerDependencies['@kubernetes/client-node']")" \
 && npm pkg delete peerDependencies peerDependenciesMeta 'devDependencies.@kubernetes/client-node' \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund "@kubernetes/client-node@$K8S" \
 && npm cache clean --force
COPY --from=build /src/dist ./dist
# Numeric, so that a pod's `runAsNonRoot: true` can verify it (the image's `node` user is 1000).
USER 1000:1000
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
