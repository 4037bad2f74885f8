// `owui-chaos experiment validate <file|builtin>`: checks an experiment (and its target when it is
// a file) and prints OK with the plan, or every problem found (exit 3).

import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { defaultSlosFile, experimentsDir } from '../../cli/paths.js';
import { resolveExperimentRef } from '../../core/config/builtin.js';
import { loadExperiment, type Experiment } from '../../core/config/experiment.js';
import type { ConfigIssue } from '../../core/config/issues.js';
import { planExperiment, type ExperimentPlan } from '../../core/config/plan.js';
import { redact } from '../../core/config/secrets.js';
import { loadSloDefaults } from '../../core/config/slo-defaults.js';
import { loadTarget, type Target } from '../../core/config/target.js';
import { formatIssue } from '../../core/errors.js';

export interface ValidateResult {
  ok: true;
  file: string;
  plan: ExperimentPlan;
  /** The parsed experiment, secrets replaced by `<redacted: from $NAME>`. */
  experiment: Experiment;
  /** The parsed target (redacted) when the experiment names a target file. */
  target?: Target;
  warnings: ConfigIssue[];
}

export default class ExperimentValidate extends BaseCommand {
  static override summary = 'Check an experiment and print what it will do';
  static override description =
    'Validates an experiment file (or a built-in experiment by name) and, when it names a target file, that target too. Prints OK and the plan, or every problem with file, line and column (exit 3).';
  static override examples = [
    '<%= config.bin %> experiment validate failover',
    '<%= config.bin %> experiment validate ./my-experiment.yaml --target ./prod-target.yaml',
    '<%= config.bin %> experiment validate failover --json',
  ];

  static override args = {
    experiment: Args.string({
      required: true,
      description: 'experiment file, or a built-in name (see `owui-chaos experiment list`)',
    }),
  };

  static override flags = {
    target: Flags.string({ description: '`lab` or a target file; overrides the experiment’s `target`' }),
    engine: Flags.string({ description: 'load engine; overrides `load.engine`', options: ['node', 'k6'] }),
    duration: Flags.string({ description: 'load duration such as `2m`; overrides `load.duration`' }),
  };

  async run(): Promise<ValidateResult> {
    const { args, flags } = await this.parse(ExperimentValidate);
    const env = process.env;
    const file = await resolveExperimentRef(args.experiment, { builtinDir: experimentsDir() });
    const defaultSlos = await loadSloDefaults(defaultSlosFile(), env);
    const loaded = await loadExperiment(file, {
      env,
      defaultSlos,
      flags: {
        ...(flags.target !== undefined ? { target: flags.target } : {}),
        ...(flags.engine !== undefined ? { engine: flags.engine } : {}),
        ...(flags.duration !== undefined ? { duration: flags.duration } : {}),
      },
      // The lab's target exists only while it runs; it is checked when a run starts.
      resolveTarget: async (ref) => (ref.kind === 'file' ? loadTarget(ref.file, { env }) : undefined),
    });
    const plan = planExperiment(loaded.experiment, loaded.targetRef);

    this.say('OK');
    this.say(plan.text);
    if (loaded.warnings.length > 0) {
      this.say('Warnings:');
      for (const warning of loaded.warnings) this.say(`  - ${formatIssue(warning)}`);
    }
    return {
      ok: true,
      file: loaded.file,
      plan,
      experiment: redact(loaded.experiment, loaded.secrets),
      ...(loaded.target !== undefined ? { target: redact(loaded.target.target, loaded.target.secrets) } : {}),
      warnings: loaded.warnings,
    };
  }
}
