// kiln search --strategy gradient: differentiable architecture search (DARTS for MLPs) over
// candidate widths and activations per hidden layer, judged on validation rows; the chosen
// network is retrained from scratch on the training rows, scored on the test part and saved.
import { Option, type Command } from 'commander';
import { ACTIVATIONS, evaluate, gradientSearch, type GradientSearchEpoch, type Operation } from '../../index.ts';
import type { TaskFlag } from '../architecture-flags.ts';
import { csvTaskOf } from '../architecture-flags.ts';
import { keepEncoder, trainingData } from '../data.ts';
import { usageError } from '../errors.ts';
import { architecture, modelBytes, writeModel } from '../model.ts';
import { givenFlag, integer, number, widths, type CommonOptions } from '../options.ts';
import { emitJson, fmt, metricsJson, metricsLine, out, rowsJson } from '../print.ts';
import { interactive, progressBar } from '../progress.ts';
import { fitOptionsFrom, interruptSignal, type TrainingFlags } from '../training-flags.ts';

export interface GradientFlags {
  candidateWidths?: number[];
  candidateActivations?: Operation[];
  maxLayers?: number;
  sizePenalty?: number;
  searchEpochs: number;
  warmupEpochs?: number;
}

/** Flags of the gradient strategy only. */
export const GRADIENT_KEYS = [
  'candidateWidths',
  'candidateActivations',
  'maxLayers',
  'sizePenalty',
  'searchEpochs',
  'warmupEpochs',
] as const;

export function gradientOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--candidate-widths <list>', 'gradient: widths each hidden layer chooses from (default 16,32,64,128,256)').argParser(
        widths,
      ),
    )
    .option(
      '--candidate-activations <list>',
      `gradient: activations to choose from, and 'skip' to allow removing layers (default relu,tanh,gelu,skip; from ${ACTIVATIONS.join(', ')}, skip)`,
      operations,
    )
    .option('--max-layers <n>', 'gradient: hidden layers of the super-network, the most the result has (default 2)', integer(0, 64))
    .option('--size-penalty <lambda>', 'gradient: weight of the expected parameter count against validation loss (default 0)', number(0))
    .option('--search-epochs <n>', 'gradient: epochs of the super-network search (--epochs retrains the result)', integer(1, 1e6), 10)
    .option(
      '--warmup-epochs <n>',
      'gradient: search epochs that train weights only, before the architecture moves (default 0)',
      integer(0),
    );
}

// The identity candidate of gradientSearch: choosing it removes the layer.
const SKIP = 'skip';

function operations(value: string): Operation[] {
  const names = value.split(',').map((s) => s.trim());
  for (const n of names)
    if (n !== SKIP && !(ACTIVATIONS as readonly string[]).includes(n))
      throw usageError(`--candidate-activations: unknown operation '${n}'; use ${ACTIVATIONS.join(', ')} or skip`);
  return names as Operation[];
}

export interface GradientRun extends CommonOptions, TrainingFlags, GradientFlags {
  task: TaskFlag;
  labelSmoothing?: number;
}

export async function gradientStrategy(cmd: Command, o: GradientRun, trialOnly: readonly string[]): Promise<void> {
  const stray = givenFlag(cmd, trialOnly);
  if (stray) throw usageError(`${stray} applies to --strategy trials, not gradient`);
  if (o.task === 'binary')
    throw usageError('--strategy gradient searches classification (softmax) or regression models; use --task classification');
  const started = performance.now();
  const data = await trainingData(o, csvTaskOf(o.task), o.validationSplit);
  const { train, validation, test } = data;
  if (!validation)
    throw usageError('--validation-split must be above 0: the architecture is learned on validation rows, never on the test rows');
  if (o.task === 'classification' && train.task === 'regression')
    throw usageError('--task classification needs class labels; the label column holds numeric targets');

  const bar = progressBar(o.searchEpochs, 'searching', o.json, '  {arch}', { arch: '' });
  const interrupt = interruptSignal();
  let result;
  try {
    result = await gradientSearch(train, {
      candidates: {
        ...(o.candidateWidths ? { widths: o.candidateWidths } : {}),
        ...(o.candidateActivations ? { activations: o.candidateActivations } : {}),
        ...(o.maxLayers === undefined ? {} : { layers: o.maxLayers }),
      },
      epochs: o.searchEpochs,
      ...(o.warmupEpochs === undefined ? {} : { warmupEpochs: o.warmupEpochs }),
      batchSize: o.batchSize,
      ...(o.sizePenalty === undefined ? {} : { sizePenalty: o.sizePenalty }),
      validation,
      seed: o.seed,
      retrain: { ...fitOptionsFrom(cmd, o, o.seed, validation) },
      onEpoch: (e: GradientSearchEpoch) => bar.update(e.epoch, { arch: hiddenText(e.architecture) }),
      signal: interrupt.signal,
    });
  } finally {
    bar.stop();
    interrupt.done();
  }
  const { model, record } = result;
  keepEncoder(model, data);
  const metrics = evaluate(model, test);
  const bytes = o.out === undefined ? modelBytes(model) : await writeModel(model, o.out);
  const seconds = (performance.now() - started) / 1000;
  const last = record.epochs.at(-1)!;

  if (o.json) {
    emitJson({
      command: 'search',
      strategy: 'gradient',
      candidates: record.candidates,
      epochs: record.epochs.map(({ probabilities, ...rest }) => ({ ...rest, probabilities })),
      hidden: result.architecture.hidden,
      architecture: architecture(model),
      parameters: model.parameterCount,
      bytes,
      out: o.out ?? null,
      metrics: metricsJson(metrics, model),
      searchMs: record.searchMs,
      retrainMs: record.retrainMs,
      rows: rowsJson(train, validation, test),
      seconds,
    });
    return;
  }
  const quiet = !interactive(o.json);
  if (quiet)
    for (const e of record.epochs)
      out(
        `epoch ${String(e.epoch).padStart(3)}  val_loss ${fmt(e.valLoss)}${e.valAccuracy === undefined ? '' : `  val_acc ${fmt(e.valAccuracy)}`}  expected parameters ${fmt(e.expectedParameters, 0)}  ${hiddenText(e.architecture)}`,
      );
  out(
    `search      gradient over widths ${record.candidates.widths.join(',')}, activations ${record.candidates.activations.join(',')}${record.candidates.skip ? ',skip' : ''}, up to ${record.candidates.layers} hidden layers, ${record.epochs.length} epochs`,
  );
  out(
    `chosen      ${hiddenText(last.architecture)} (validation loss ${fmt(last.valLoss)}${last.valAccuracy === undefined ? '' : `, accuracy ${fmt(last.valAccuracy)}`})`,
  );
  out(
    `model       ${architecture(model)}, ${model.parameterCount} parameters, retrained ${o.epochs} epochs; ${seconds.toFixed(1)} s in all`,
  );
  out(`test        ${metricsLine(metrics)}`);
  out(o.out === undefined ? `not saved   (give --out <file> to keep it)` : `saved       ${o.out}`);
}

const hiddenText = (hidden: readonly { units: number; activation: string }[]): string =>
  hidden.length === 0 ? 'no hidden layers' : hidden.map((h) => `${h.units} ${h.activation}`).join(' → ');
