# syntax=docker/dockerfile:1
# One image for every process: `temporal-hume worker` (the default), `temporal-hume webhook`,
# and the CLI (`run`, `status`, …). Built JavaScript in dist/, so nothing is compiled at start.

# --- build: the full dependency set (TypeScript is a dev dependency) compiles src/ into dist/,
# then packs the package as npm would publish it.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY examples ./examples
COPY src ./src
RUN npm run build
RUN npm pack --ignore-scripts --pack-destination /tmp/pack \
  && node -p "Object.entries(require('./package.json').devDependencies).filter(([n]) => n in require('./package.json').peerDependencies).map(([n, v]) => n + '@' + v).join(' ')" > /tmp/pack/temporal-peers

# --- runtime: the package installed as a user installs it: its dependencies and its @temporalio
# peer dependencies, one copy each. bin/temporal-hume.js runs dist/cli.js (no src/ in the package).
FROM node:20-slim
ENV NODE_ENV=production
COPY --from=build /tmp/pack /tmp/pack
# The @temporalio peers at the versions the tests run with (the package allows any ^1.23).
RUN npm install -g --no-audit --no-fund /tmp/pack/temporal-hume-*.tgz $(cat /tmp/pack/temporal-peers) \
  && rm -rf /tmp/pack && npm cache clean --force \
  && mkdir -p /data && chown node:node /data
# The working directory, for local manifests and results when a run uses paths (mount a volume
# then); with S3 locations (docker-compose.yml) a worker needs no volume, only temp space.
# The worker runs as the unprivileged `node` user.
WORKDIR /data
USER node
ENTRYPOINT ["temporal-hume"]
CMD ["worker"]
