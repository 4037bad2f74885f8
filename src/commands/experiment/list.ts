// `owui-chaos experiment list`: the built-in experiments with title and one-line description.

import { BaseCommand } from '../../cli/base-command.js';
import { experimentsDir } from '../../cli/paths.js';
import { listBuiltinExperiments, type BuiltinExperiment } from '../../core/config/builtin.js';

export default class ExperimentList extends BaseCommand {
  static override summary = 'List the built-in experiments';
  static override examples = [
    '<%= config.bin %> experiment list',
    '<%= config.bin %> experiment list --json',
  ];

  async run(): Promise<{ experiments: BuiltinExperiment[] }> {
    await this.parse(ExperimentList);
    const experiments = await listBuiltinExperiments(experimentsDir());
    const width = Math.max(4, ...experiments.map((e) => e.name.length));
    for (const e of experiments) {
      this.say(`${e.name.padEnd(width)}  ${e.title}${e.problem ? `  (unreadable: ${e.problem})` : ''}`);
      if (e.summary) this.say(`${' '.repeat(width)}  ${e.summary}`);
    }
    if (experiments.length > 0)
      this.say(
        `\nRun one with: owui-chaos run <name>   Check one with: owui-chaos experiment validate <name>`,
      );
    return { experiments };
  }
}
