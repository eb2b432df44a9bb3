# syntax=docker/dockerfile:1
# `wmill serve` (and `wmill worker`) in a container: the package `npm pack` makes, installed
# globally on Node's slim Debian image, with python3 for Python jobs, run as an unprivileged user.
#
#   docker build -t wmill:0.1.0 .
#   docker run -p 127.0.0.1:8000:8000 -v wmill-data:/data -e WMILL_ADMIN_TOKEN=... wmill:0.1.0
#
# With PostgreSQL and separate workers: deploy/compose.yaml.
ARG NODE_VERSION=20.20.2

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json README.md LICENSE ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY python ./python
# prepack builds dist/; the tarball is what `npm publish` would ship.
RUN npm pack --pack-destination /tmp && mv /tmp/wmill-*.tgz /tmp/wmill.tgz

FROM node:${NODE_VERSION}-bookworm-slim
# python3: Python jobs and signatures; tini: PID 1 that forwards signals and reaps job processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /tmp/wmill.tgz /tmp/wmill.tgz
RUN npm install -g --no-audit --no-fund /tmp/wmill.tgz \
 && rm /tmp/wmill.tgz \
 && npm cache clean --force
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/wmill --shell /usr/sbin/nologin wmill \
 && mkdir -m 0700 /data \
 && chown wmill:wmill /data
USER wmill
WORKDIR /home/wmill
ENV NODE_ENV=production
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/api/version').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "wmill"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--data", "/data"]
