// Flags that describe how to train (optimizer, schedule, epochs, batches) and their translation
// into the library's optimizer and fit options. Shared by every command that trains.
import type { Command } from 'commander';
import { adam, adamw, gd, sgd, type Dataset, type EpochLog, type FitOptions, type Optimizer, type Schedule } from '../index.ts';
import { CliError, usageError } from './errors.ts';
import { augmentSpec, choice, fraction, given, integer, number } from './options.ts';
import { epochReporter } from './progress.ts';

export interface TrainingFlags {
  optimizer: keyof typeof OPTIMIZERS;
  lr?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  clipNorm?: number;
  schedule: Schedule['type'];
  stepSize?: number;
  gamma?: number;
  warmupSteps?: number;
  minLr?: number;
  epochs: number;
  batchSize: number;
  validationSplit: number;
  earlyStopping?: number;
  augment?: ReturnType<typeof augmentSpec>;
}

/** Option keys of trainingOptions that describe the optimizer (not how long or on what it trains). */
export const OPTIMIZER_KEYS = [
  'optimizer',
  'lr',
  'momentum',
  'nesterov',
  'weightDecay',
  'clipNorm',
  'schedule',
  'stepSize',
  'gamma',
  'warmupSteps',
  'minLr',
] as const;

/** Option keys of trainingOptions, for commands that take them only in some modes. */
export const TRAINING_KEYS = [...OPTIMIZER_KEYS, 'epochs', 'batchSize', 'validationSplit', 'earlyStopping'] as const;

export function trainingOptions(
  cmd: Command,
  defaults: { epochs: number; minEpochs?: number; epochsText?: string; validationSplit?: number },
): Command {
  return cmd
    .addOption(choice('--optimizer <name>', 'optimizer', Object.keys(OPTIMIZERS)).default('adam'))
    .option('--lr <rate>', 'learning rate (default: 1e-3 for adam and adamw, 0.01 for sgd and gd)', number(0))
    .option('--momentum <m>', 'momentum of sgd (default 0)', number(0))
    .option('--nesterov', 'Nesterov momentum (sgd with --momentum > 0)')
    .option('--weight-decay <wd>', 'weight decay (default: 0.01 for adamw, else 0)', number(0))
    .option('--clip-norm <norm>', 'clip gradients to this global L2 norm', number(Number.MIN_VALUE))
    .addOption(choice('--schedule <type>', 'learning-rate schedule', ['constant', 'step', 'exponential', 'cosine']).default('constant'))
    .option('--step-size <epochs>', 'step schedule: epochs between decays', integer(1))
    .option('--gamma <factor>', 'step and exponential schedules: decay factor (step default 0.1)', number(0))
    .option('--warmup-steps <n>', 'cosine schedule: linear warmup updates (default 0)', integer(0))
    .option('--min-lr <rate>', 'cosine schedule: final learning rate (default 0)', number(0))
    .option('--epochs <n>', defaults.epochsText ?? 'training epochs', integer(defaults.minEpochs ?? 1), defaults.epochs)
    .option('--batch-size <n>', 'rows per update (gd uses all rows)', integer(1), 32)
    .option('--validation-split <fraction>', 'share of rows held out of training for validation', fraction(), defaults.validationSplit ?? 0)
    .option(
      '--early-stopping <patience>',
      'stop after this many epochs without improvement (val_loss with a validation split, else loss), keeping the best weights',
      integer(0),
    );
}

/** `--augment <spec>`, for the commands whose training takes fit's augment option. */
export function augmentOption(cmd: Command): Command {
  return cmd.option(
    '--augment <spec>',
    'augment each training batch: shift=<pixels>, flip, cutout=<size>, mixup=<alpha>, shape=CxHxW for flat rows (e.g. shift=2,shape=1x28x28)',
    augmentSpec,
  );
}

const OPTIMIZERS = { gd, sgd, adam, adamw } as const;

const SCHEDULE_FLAGS: Readonly<Record<string, readonly Schedule['type'][]>> = {
  stepSize: ['step'],
  gamma: ['step', 'exponential'],
  warmupSteps: ['cosine'],
  minLr: ['cosine'],
};
const FLAG_NAMES: Readonly<Record<string, string>> = {
  stepSize: '--step-size',
  gamma: '--gamma',
  warmupSteps: '--warmup-steps',
  minLr: '--min-lr',
};

/** The optimizer the flags describe; flags that do not apply to it are rejected. */
export function optimizerFrom(cmd: Command, f: TrainingFlags): Optimizer {
  for (const [key, types] of Object.entries(SCHEDULE_FLAGS)) {
    if (given(cmd, key) && !types.includes(f.schedule))
      throw usageError(`${FLAG_NAMES[key]} applies to --schedule ${types.join(' or ')}, not ${f.schedule}`);
  }
  if ((f.momentum !== undefined || f.nesterov) && f.optimizer !== 'sgd')
    throw usageError(`--momentum and --nesterov apply to --optimizer sgd, not ${f.optimizer}`);
  let schedule: Schedule;
  switch (f.schedule) {
    case 'step':
      if (f.stepSize === undefined) throw usageError('--schedule step needs --step-size <epochs>');
      schedule = { type: 'step', stepSize: f.stepSize, ...(f.gamma === undefined ? {} : { gamma: f.gamma }) };
      break;
    case 'exponential':
      if (f.gamma === undefined) throw usageError('--schedule exponential needs --gamma <factor>');
      schedule = { type: 'exponential', gamma: f.gamma };
      break;
    case 'cosine':
      schedule = {
        type: 'cosine',
        ...(f.warmupSteps === undefined ? {} : { warmupSteps: f.warmupSteps }),
        ...(f.minLr === undefined ? {} : { minLr: f.minLr }),
      };
      break;
    default:
      schedule = { type: 'constant' };
  }
  const options: Record<string, unknown> = { schedule };
  if (f.lr !== undefined) options.lr = f.lr;
  if (f.weightDecay !== undefined) options.weightDecay = f.weightDecay;
  if (f.clipNorm !== undefined) options.clipNorm = f.clipNorm;
  if (f.momentum !== undefined) options.momentum = f.momentum;
  if (f.nesterov) options.nesterov = true;
  return OPTIMIZERS[f.optimizer](options);
}

/** fit's options from the flags (progress hooks aside). */
export function fitOptionsFrom(
  cmd: Command,
  f: TrainingFlags & { labelSmoothing?: number },
  seed: number,
  validation: Dataset | undefined,
): FitOptions {
  return {
    optimizer: optimizerFrom(cmd, f),
    epochs: f.epochs,
    batchSize: f.batchSize,
    seed,
    ...(validation ? { validation } : {}),
    ...(f.earlyStopping === undefined ? {} : { earlyStopping: earlyStoppingFrom(f) }),
    ...(f.labelSmoothing === undefined ? {} : { labelSmoothing: f.labelSmoothing }),
    ...(f.augment === undefined ? {} : { augment: f.augment }),
  };
}

/** Early stopping as fit takes it. */
export const earlyStoppingFrom = (f: TrainingFlags) => (f.earlyStopping === undefined ? undefined : { patience: f.earlyStopping });

/** Ctrl-C stops training between steps instead of killing the process mid-write. */
export function interruptSignal(): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onInt = () => controller.abort(new CliError('interrupted', 130));
  process.once('SIGINT', onInt);
  return { signal: controller.signal, done: () => process.off('SIGINT', onInt) };
}

/** Runs a training loop with epoch progress (see epochReporter) and Ctrl-C handling. */
export async function withEpochProgress<T>(
  epochs: number,
  label: string,
  quiet: boolean | undefined,
  run: (hooks: { onEpoch: (log: EpochLog) => void; signal: AbortSignal }) => Promise<T>,
): Promise<T> {
  const reporter = epochReporter(epochs, label, quiet);
  const interrupt = interruptSignal();
  try {
    return await run({ onEpoch: (log) => reporter.onEpoch(log), signal: interrupt.signal });
  } finally {
    reporter.stop();
    interrupt.done();
  }
}
