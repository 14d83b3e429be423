# syntax=docker/dockerfile:1
# One image for every process: `temporal-hume worker` (the default), `temporal-hume webhook`,
# and the CLI (`run`, `status`, …). Built JavaScript in dist/, so nothing is compiled at start.

# --- build: the full dependency set (TypeScript is a dev dependency) compiles src/ into dist/.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only. bin/temporal-hume.js runs dist/cli.js when dist/
# exists, so tsx (a dependency, installed anyway) is never used here.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
RUN ln -s /app/bin/temporal-hume.js /usr/local/bin/temporal-hume \
  && mkdir -p /data && chown node:node /data
# The working directory, for local manifests and results when a run uses paths (mount a volume
# then); with S3 locations (docker-compose.yml) a worker needs no volume, only temp space.
# The worker runs as the unprivileged `node` user.
WORKDIR /data
USER node
ENTRYPOINT ["temporal-hume"]
CMD ["worker"]
