// The fixes the doctor prints, each with the guide section that explains it (docs/doctor.md).
// One place, so a wording or a link is changed once.

import type { Fix, Guide } from './report.js';

export const GUIDES = {
  nginx: {
    title: 'Open WebUI docs: HTTPS with nginx',
    url: 'https://docs.openwebui.com/reference/https/nginx',
  },
  multiReplica: {
    title: 'Open WebUI docs: multi-replica troubleshooting',
    url: 'https://docs.openwebui.com/troubleshooting/multi-replica/',
  },
  redis: {
    title: 'Open WebUI docs: Redis websocket support',
    url: 'https://docs.openwebui.com/tutorials/integrations/redis',
  },
  env: {
    title: 'Open WebUI docs: environment variables',
    url: 'https://docs.openwebui.com/getting-started/env-configuration',
  },
  sentinel: {
    title: 'Redis docs: Sentinel configuration',
    url: 'https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/',
  },
} as const satisfies Record<string, Guide>;

export const FIXES = {
  buffering: {
    action:
      'nginx, in the location that proxies Open WebUI: `proxy_buffering off; proxy_cache off; proxy_http_version 1.1;`',
    guide: GUIDES.nginx,
  },
  upgradeHeaders: {
    action:
      'nginx, in the location of /ws/: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";`',
    guide: GUIDES.nginx,
  },
  corsOwnOrigin: (origin: string): Fix => ({
    action: `Open WebUI env: add the site's origin to \`CORS_ALLOW_ORIGIN\` (e.g. \`CORS_ALLOW_ORIGIN=${origin}\`; several separated by \`;\`)`,
    guide: GUIDES.env,
  }),
  corsWildcard: (origin: string): Fix => ({
    action: `Open WebUI env: \`CORS_ALLOW_ORIGIN=${origin}\` instead of \`*\`, so other sites cannot open sockets with your users' tokens`,
    guide: GUIDES.env,
  }),
  secret: {
    action:
      'Open WebUI env: the same `WEBUI_SECRET_KEY` on every replica (a shared secret, e.g. from one Kubernetes Secret); without it each container generates its own',
    guide: GUIDES.multiReplica,
  },
  websocketManager: {
    action:
      'Open WebUI env on every replica: `ENABLE_WEBSOCKET_SUPPORT=true`, `WEBSOCKET_MANAGER=redis`, `WEBSOCKET_REDIS_URL` (and `REDIS_URL`) pointing at the shared Redis (with Sentinel: `WEBSOCKET_SENTINEL_HOSTS`)',
    guide: GUIDES.redis,
  },
  replicaDown: {
    action:
      'bring the replica back (or take it out of the load balancer); `/ready` 503 names what it waits for (database, Redis)',
    guide: GUIDES.multiReplica,
  },
  versionMismatch: {
    action: 'run one Open WebUI version on every replica (finish or roll back the upgrade)',
    guide: GUIDES.multiReplica,
  },
  deploymentIdMismatch: {
    action:
      'Open WebUI env: the same `DEPLOYMENT_ID` on every replica (browsers reload when it changes between reconnects)',
    guide: GUIDES.env,
  },
  sentinelQuorum: {
    action:
      'Sentinel: run at least 3 Sentinels that can reach each other, `sentinel monitor <master> <host> <port> <quorum>` with a quorum of a majority',
    guide: GUIDES.sentinel,
  },
  sentinelDisagree: {
    action:
      'Sentinel: every Sentinel must monitor the same master name and see the same master; check `SENTINEL get-master-addr-by-name` on each and the network between them',
    guide: GUIDES.sentinel,
  },
  replicaSync: {
    action:
      'Redis: the replica must be connected (`master_link_status:up`) and caught up; check `INFO replication`',
    guide: GUIDES.sentinel,
  },
  pinnedMaster: {
    action:
      "Open WebUI env: `REDIS_URL=redis://<master-name>:6379/0` with `REDIS_SENTINEL_HOSTS`/`REDIS_SENTINEL_PORT` (and `WEBSOCKET_SENTINEL_HOSTS`), not the master's address: a pinned address breaks at the first failover",
    guide: GUIDES.redis,
  },
  readTimeout: {
    action:
      'nginx: `proxy_read_timeout 3600s; proxy_send_timeout 3600s;` in the locations of Open WebUI and /ws/ (a long-thinking model and an idle socket outlast the 60 s default)',
    guide: GUIDES.nginx,
  },
  bodySize: {
    action: 'nginx: `client_max_body_size 100m;` (or the largest upload you allow) in the server block',
    guide: GUIDES.nginx,
  },
  tlsExpiry: {
    action: 'renew the TLS certificate (automate it, e.g. certbot renew from cron or cert-manager)',
    guide: GUIDES.nginx,
  },
  notOpenWebui: {
    action:
      'point `openwebui.url` at Open WebUI through its load balancer (it answers `GET /health` with `{"status":true}`)',
    guide: GUIDES.multiReplica,
  },
  credentials: {
    action:
      'give working credentials in the target (`auth.admin` / `auth.users.existing`, passwords from env vars) for a user with role user or admin',
    guide: GUIDES.env,
  },
} as const;
