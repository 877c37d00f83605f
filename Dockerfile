# syntax=docker/dockerfile:1
# sendgrid-sso-certs as a container: `docker build -t sendgrid-sso-certs .`
#
# The build stage compiles with the dev dependencies and packs what `npm pack` would publish (package.json
# "files"); the runtime stage unpacks that and installs the production dependencies only, from the same
# lock file. test/deploy/runtime-image.spec.ts reproduces the runtime stage without a Docker engine.
#
# No init process (tini, --init): node runs as PID 1 and handles SIGTERM/SIGINT itself (src/cli/signals.ts),
# and the daemon starts no child processes, so there are no zombies to reap.

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY src ./src
COPY config/config.example.yaml ./config/
RUN npm run build \
  && npm pack --pack-destination /tmp \
  && mkdir /app \
  && tar -xzf /tmp/sendgrid-sso-certs-*.tgz -C /app --strip-components=1 \
  && cp package-lock.json /app/

FROM node:24-slim
ARG VERSION=0.1.0
# The repository URL is yours to give: docker build --build-arg SOURCE_URL=https://… .
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="sendgrid-sso-certs" \
      org.opencontainers.image.description="Keeps the SAML certificates of Twilio SendGrid SSO integrations from expiring unnoticed: Prometheus metrics, alerts and safe rotation." \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"
# V8 sizes its heap for throughput, not for a daemon that is idle between scans: left alone it holds
# 140 to 380 MB for 3,000 certificates, most of it garbage not yet collected, and Node 24 does not hand
# it back when idle. A 2 MiB young generation and a 96 MiB old one bound the heap; the old space holds
# about 10,000 certificates. Of V8's heap flags, only these two are allowed in NODE_OPTIONS.
# glibc keeps a malloc arena per thread (libuv's pool, V8's helpers, the parse worker) and holds freed
# memory in each: two arenas and a fixed trim threshold give 15-20 MB back on Node 24, and blocks of
# 32 KiB and more (zlib's windows, response buffers) mapped on their own, returned whole when freed,
# another 5-10 MB; --optimize-for-size (in ENTRYPOINT: NODE_OPTIONS refuses it) saves 5-8 MB more for
# about 20 % more CPU in a scan (docs/deployment.md#docker, docs/performance.md).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=96" \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    MALLOC_MMAP_THRESHOLD_=32768 \
    STATE_DIR=/var/lib/sendgrid-sso-certs
WORKDIR /app
COPY --from=build /app ./
# The application files stay owned by root: the process can read them, never change them.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force \
  && mkdir -p /etc/sendgrid-sso-certs /var/lib/sendgrid-sso-certs \
  && chown 1000:1000 /var/lib/sendgrid-sso-certs
# The image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
VOLUME /var/lib/sendgrid-sso-certs
EXPOSE 9469
STOPSIGNAL SIGTERM
# No curl in the slim image: node asks /healthz, on the port of LISTEN when it is set. /healthz needs no
# credentials even with basic or bearer auth on (src/server/http.ts); with TLS on, the plain request fails
# and the probe asks again over https, trusting any certificate: it checks liveness, not identity.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const port = (process.env.LISTEN || '').split(':').pop() || '9469'; const ask = (scheme, next) => require('node:' + scheme).get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', next); ask('http', () => ask('https', () => process.exit(1)));"]
ENTRYPOINT ["node", "--optimize-for-size", "/app/dist/cli.js"]
CMD ["run", "--config", "/etc/sendgrid-sso-certs/config.yaml"]
