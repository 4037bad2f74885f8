// `owui-chaos doctor`: read-only checks of a live deployment for the HA guides' pitfalls. Thin:
// parse flags, call src/app/doctor, print one line per check as it finishes, set the exit code
// (0 nothing failed, 10 a check failed). docs/doctor.md has the checks and the fixes.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { parseDuration } from '../core/clock.js';
import { parseOnly, type DoctorReport } from '../core/doctor/report.js';
import { renderCheck } from '../core/doctor/render.js';
import { UsageError } from '../core/errors.js';
import { parseSize, runDoctorFromRequest } from '../app/doctor/run-doctor.js';

export default class Doctor extends BaseCommand {
  static override summary =
    'Check a live deployment for the reverse-proxy, scaling and Redis pitfalls of the HA guides';
  static override description =
    'Runs read-only checks against the target — reachability and identity, sign-in, SSE through the proxy (buffering), the websocket upgrade, the CORS origin check, a shared WEBUI_SECRET_KEY, cross-replica socket delivery, Redis/Sentinel health, proxy timeouts (opt-in) and limits — and prints PASS / WARN / FAIL / SKIP per check with the evidence measured and, for every WARN and FAIL, the fix and the guide. Never injects a fault; the load is a few streams and sockets. Exit 0 when nothing failed, 10 when a check failed.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --lab-name dr-1 --only sse,websocket',
    '<%= config.bin %> doctor --target ./prod-target.yaml --json --out ./doctor',
    '<%= config.bin %> doctor --slow-check --body-size 20m',
  ];

  static override flags = {
    target: Flags.string({ description: '`lab` (default) or a target file' }),
    'lab-name': Flags.string({ description: 'which lab `lab` means', default: 'default' }),
    only: Flags.string({
      description:
        'comma-separated checks: identity, auth, sse, websocket, cors, secret, delivery, redis, timeouts, limits',
    }),
    'slow-check': Flags.boolean({
      description: 'also run the timeout checks: a stream silent and a socket idle past 60 s (takes ~70 s)',
    }),
    silence: Flags.string({ description: 'how long the slow checks stay silent (default 65s)' }),
    'body-size': Flags.string({ description: 'upload this much (e.g. 20m) to find client_max_body_size' }),
  };

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor);
    const only = parseOnly(flags.only);
    if (only.unknown.length > 0) {
      throw new UsageError(`Unknown check(s) in --only: ${only.unknown.join(', ')}`, {
        code: 'USAGE',
        suggestions: [
          'owui-chaos doctor --only identity,sse,websocket,cors,secret,delivery,redis,timeouts,limits',
        ],
      });
    }
    if (only.ids.length === 0) throw new UsageError('--only names no check', { code: 'USAGE' });
    const silenceMs = flags.silence !== undefined ? parseDuration(flags.silence) : undefined;
    const json = this.jsonEnabled();
    if (!json) this.log(`owui-chaos doctor — ${flags.target ?? `lab ${flags['lab-name']}`}\n`);
    const report = await runDoctorFromRequest({
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      labName: flags['lab-name'],
      only: only.ids,
      slowCheck: flags['slow-check'],
      ...(silenceMs !== undefined ? { silenceMs } : {}),
      ...(flags['body-size'] !== undefined ? { bodySizeBytes: parseSize(flags['body-size']) } : {}),
      ...(flags.out !== undefined ? { outDir: flags.out } : {}),
      onCheck: (c) => {
        if (!json) this.log(renderCheck(c));
      },
    });
    if (!json) {
      this.log(
        `\n${report.target.name} (${report.target.url}): ${report.summary} in ${(report.durationMs / 1000).toFixed(1)} s → exit ${report.exitCode}`,
      );
      if ('file' in report && report.file) this.log(`Report: ${String(report.file)}`);
    }
    process.exitCode = report.exitCode;
    return report;
  }
}
