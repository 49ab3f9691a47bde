# One image for every role (api, orchestrator, processors, migrate); the role is chosen by the command.
# Build: TypeScript compiled to dist/, workflow code pre-bundled (dist/workflow-bundle*.js: with and without
# tracing), the console built to console/dist (the API serves it at /ui/), dev dependencies pruned.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm run console:build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    FILE_DATA_ROOT=/data/files
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/prisma.config.ts ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/prisma ./prisma
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/bin ./bin
COPY --from=build --chown=node:node /app/console/dist ./console/dist
RUN mkdir -p /data/files && chown node:node /data/files
USER node
EXPOSE 3000
# Roles:  node dist/api/main.js | node dist/workers/orchestrator.js | node dist/workers/processor.js <type>
#         node dist/scripts/migrate.js
CMD ["node", "dist/api/main.js"]
