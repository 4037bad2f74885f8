// Lab part: the lab's own Postgres cluster in the state directory, behind Toxiproxy's `postgres`
// proxy. Only real Open WebUI replicas use it; with the simulator the part does nothing.

import { requireBinary } from '../../infra/process/binaries.js';
import { findPostgresBin, postgresStatus, startPostgres, stopPostgres } from '../postgres/postgres.js';
import { LAB_DIR_ENV, PROXY_POSTGRES } from './names.js';
import { oneProcessEndpoints, partDir, type LabPart } from './part.js';
import { createProxy } from './toxiproxy.js';

export const postgresPart: LabPart = {
  name: 'postgres',

  check({ settings }) {
    if (settings.openwebui === 'real' && !findPostgresBin()) requireBinary('postgres', 'postgresql');
  },

  async up(ctx) {
    const { settings, state, save, progress } = ctx;
    if (settings.openwebui !== 'real') return;
    progress('starting Postgres (own cluster in the state dir)');
    const pg = await startPostgres(
      {
        dir: partDir(settings.stateDir, 'postgres'),
        readyBudgetMs: settings.budgetMs,
        env: { [LAB_DIR_ENV]: settings.stateDir },
      },
      (rec) => {
        state.postgres = rec;
        save();
      },
    );
    const proxy = await createProxy(ctx, PROXY_POSTGRES, pg.port);
    progress(`Postgres ${pg.version} ready on :${pg.port} (proxy postgres ${proxy.listen})`);
  },

  async status(state) {
    const rec = state.postgres;
    if (!rec) return { parts: [] };
    const pg = await postgresStatus(rec);
    return {
      parts: [
        {
          part: 'postgres',
          name: 'postgres',
          endpoint: `127.0.0.1:${rec.port}`,
          pid: rec.pid,
          healthy: pg.ok,
          detail: pg.detail,
        },
      ],
    };
  },

  async down(state, d) {
    const rec = state.postgres;
    if (rec) await d.attempt('postgres', () => stopPostgres(rec));
  },

  endpoints(state) {
    const rec = state.postgres;
    return oneProcessEndpoints('postgres', rec && { ...rec, endpoint: `127.0.0.1:${rec.port}` });
  },
};
