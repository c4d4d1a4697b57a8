# kube-oidc-bridge: one image for every role (serve, token, webhook-config…). Runs as a non-root user.
# Node.js 24 LTS in both stages (docs/runtime.md); the floating `24-alpine` tag picks up Node and
# Alpine security releases on every rebuild.
FROM node:24-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` builds, and the sources are not copied yet.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle-fast-entry.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-alpine
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The image's unprivileged user (uid 1000); nothing in /app is writable by it.
USER node
EXPOSE 8080 8443
ENTRYPOINT ["node", "bin/kube-oidc-bridge.js"]
CMD ["serve", "--config", "/etc/kube-oidc-bridge/config.yaml"]
