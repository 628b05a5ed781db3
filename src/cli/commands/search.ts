// kiln search: hyperparameter and architecture search. The flags become searchModel's options
// (the library runs the study, trains every trial and keeps the chosen trial's model); this
// command scores that model on the test part, saves it and prints the study.
import type { Command } from 'commander';
import {
  evaluate,
  writeFileAtomic,
  type FrozenTrial,
  type MlpSettings,
  type ParamValue,
  type PrunerName,
  type SamplerName,
  type SearchModelOptions,
  type SearchObjective,
  type Study,
} from '../../index.ts';
import { architectureOptions, taskOption, csvTaskOf, type ArchitectureFlags, type TaskFlag } from '../architecture-flags.ts';
import { keepEncoder, trainingData } from '../data.ts';
import { usageError } from '../errors.ts';
import { architecture, modelBytes, writeModel } from '../model.ts';
import { choice, commonOptions, given, givenFlag, integer, number, type CommonOptions } from '../options.ts';
import { emitJson, fmt, metricsJson, metricsLine, out, table, rowsJson } from '../print.ts';
import { progressBar } from '../progress.ts';
import { searchApi, type SearchApi } from '../library.ts';
import { readSpaceFile } from '../search-space.ts';
import { GRADIENT_KEYS, gradientOptions, gradientStrategy, type GradientFlags } from './search-gradient.ts';
import { interruptSignal, optimizerFrom, trainingOptions, type TrainingFlags } from '../training-flags.ts';
import { openStorageFlag } from './study.ts';

interface SearchOptions extends CommonOptions, TrainingFlags, ArchitectureFlags, GradientFlags {
  strategy: 'trials' | 'gradient';
  task: TaskFlag;
  labelSmoothing?: number;
  trials: number;
  timeBudget?: number;
  workers: number;
  space?: string;
  sampler: SamplerName;
  pruner: PrunerName;
  objectives?: SearchObjective[];
  storage?: string;
  study: string;
  exportCsv?: string;
}

/** Flags of the trials strategy only. */
const TRIAL_KEYS = [
  'trials',
  'timeBudget',
  'workers',
  'space',
  'sampler',
  'pruner',
  'objectives',
  'storage',
  'study',
  'exportCsv',
  'layers',
  'activation',
  'dropout',
];

interface WorkerOptions extends SearchOptions {
  heartbeat: number;
  grace: number;
  requeue: boolean;
}

const STORAGE_HELP =
  'where the study lives: a journal file (JSON lines; processes on one host may share it), postgres://user@host/db, redis://host:6379 or http://host:8080 (kiln serve; token from $KILN_SERVE_TOKEN) (default: $KILN_STORAGE); run again to resume it';

// The flags a search trial is defined by, shared by `kiln search` and `kiln worker`.
function trialFlags(cmd: Command, api: SearchApi, trialsText: string): Command {
  cmd
    .option('--trials <n>', trialsText, integer(1, 1e6), 20)
    .option('--time-budget <seconds>', 'stop starting trials after this long (running trials finish)', number(0))
    .option(
      '--space <file>',
      `JSON search space (default: lr, layers, units_{i}, activation, dropout, batch_size; on images: lr, conv_blocks, filters_{i}, kernel_size, pooling, batch_norm, units, dropout); names: ${api.MLP_SPACE_NAMES.join(', ')}`,
    )
    .addOption(
      choice('--sampler <name>', 'how trials are proposed (grid: every combination of a categorical space)', api.SAMPLER_NAMES).default(
        'tpe',
      ),
    )
    .addOption(
      choice('--pruner <name>', 'how hopeless trials are stopped early, from their per-epoch validation scores', api.PRUNER_NAMES).default(
        'hyperband',
      ),
    )
    .option(
      '--objectives <list>',
      `what to optimize on the validation rows, comma-separated: ${api.SEARCH_OBJECTIVES.join(', ')}; several give a Pareto front (default: accuracy, or loss for regression)`,
      (v: string) => objectiveList(v, api.SEARCH_OBJECTIVES),
    )
    .option('--storage <url>', STORAGE_HELP, process.env.KILN_STORAGE || undefined)
    .option('--study <name>', 'name of the study in the storage', 'kiln');
  architectureOptions(cmd, [64]);
  return taskOption(cmd).option('--label-smoothing <eps>', 'label smoothing of the cross-entropy', number(0, 0.999999));
}

export function registerSearch(program: Command): void {
  const api = searchApi;
  const strategies = ['trials', 'gradient'];
  const cmd = program
    .command('search')
    .description(
      "search hyperparameters and architecture on validation rows; keep the best trial's model, score it on the test rows and save it",
    );
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'out', 'table', 'classes'], {
    out: 'model file to write the chosen model to (atomically)',
  }).addOption(
    choice(
      '--strategy <name>',
      'trials: train a model per trial (samplers, pruners); gradient: one super-network learns widths and activations (DARTS)',
      strategies,
    ).default(strategies[0]),
  );
  trialFlags(cmd, api, 'trials to run')
    .option('--workers <n>', 'threads training trials at once; a seed repeats exactly for the same count', integer(1, 1024), 1)
    .option('--export-csv <file>', 'write every trial as CSV');
  gradientOptions(cmd);
  trainingOptions(cmd, { epochs: 20, validationSplit: 0.2, epochsText: 'training epochs of each trial (unless the space sets epochs)' });
  cmd.addHelpText(
    'after',
    `
The flags set everything the space does not: a space naming lr overrides --lr in each trial.
The chosen trial's model is the one saved: it is not trained again.
A space file uses the library's JSON format, for example:
  { "lr": { "float": [1e-4, 1e-1], "log": true },
    "optimizer": { "categorical": ["adam", "sgd"] },
    "momentum": { "float": [0.5, 0.99], "if": { "optimizer": "sgd" } },
    "layers": { "int": [1, 3] },
    "units_{i}": { "int": [16, 256], "log": true, "for": "layers" } }

Examples:
  kiln search --data iris --trials 30 --epochs 40 --out best.safetensors
  kiln search --data mnist --space space.json --sampler tpe --pruner median --trials 50 --storage mnist.jsonl
  kiln search --data mnist --trials 200 --storage postgres://kiln@db/kiln --study mnist   (with kiln worker elsewhere)
  kiln search --data iris --objectives accuracy,parameters --trials 40 --json
  kiln search --data mnist --strategy gradient --candidate-widths 32,64,128 --size-penalty 0.05 --search-epochs 8`,
  );
  cmd.action((o: SearchOptions) => (o.strategy === 'gradient' ? gradientStrategy(cmd, o, TRIAL_KEYS) : search(cmd, o, api)));
}

export function registerWorker(program: Command): void {
  const api = searchApi;
  const cmd = program
    .command('worker')
    .description('train trials of a study kept in a shared storage until its trial budget is spent; run any number of these, on any hosts');
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test']);
  trialFlags(cmd, api, "the study's budget: trials finished by all workers together")
    .option('--heartbeat <seconds>', 'how often running trials beat', number(0.01), 10)
    .option(
      '--grace <seconds>',
      'a trial whose beat is older than this is failed and re-enqueued (at least twice --heartbeat)',
      number(0.02),
      60,
    )
    .option('--no-requeue', "fail dead workers' trials without re-enqueuing their parameters");
  trainingOptions(cmd, { epochs: 20, validationSplit: 0.2, epochsText: 'training epochs of each trial (unless the space sets epochs)' });
  cmd.addHelpText(
    'after',
    `
Every worker of a study needs the same data, space and flags (the study records trials, not the
objective). Killing a worker is safe: its trial is failed and re-enqueued after --grace seconds (at
once when it ran on the same host), and another worker trains it again.

Examples:
  kiln worker --storage postgres://kiln@db.example/kiln --study mnist --data mnist --trials 200
  KILN_STORAGE=redis://cache:6379 kiln worker --study iris --data iris --trials 100 --epochs 30`,
  );
  cmd.action((o: WorkerOptions) => worker(cmd, o, api));
}

function objectiveList(value: string, known: readonly SearchObjective[]): SearchObjective[] {
  const names = value.split(',').map((s) => s.trim());
  for (const n of names)
    if (!known.includes(n as SearchObjective)) throw usageError(`--objectives: unknown objective '${n}'; use ${known.join(', ')}`);
  if (new Set(names).size !== names.length) throw usageError(`--objectives names an objective twice: ${value}`);
  return names as SearchObjective[];
}

/** The flags as the settings a trial uses for names its space leaves out. */
function defaultsFrom(cmd: Command, o: SearchOptions): Partial<MlpSettings> {
  // Checks that the optimizer and schedule flags go together; the schedule comes from here.
  const { schedule } = optimizerFrom(cmd, o);
  const optional = {
    lr: o.lr,
    momentum: o.momentum,
    nesterov: o.nesterov,
    weightDecay: o.weightDecay,
    clipNorm: o.clipNorm,
    labelSmoothing: o.labelSmoothing,
    earlyStopping: o.earlyStopping,
  };
  return {
    layers: o.layers,
    activation: o.activation,
    dropout: o.dropout,
    optimizer: o.optimizer,
    batchSize: o.batchSize,
    schedule,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/** What search and worker share: the rows, and the flags as searchModel's options. */
async function searchSetup(cmd: Command, o: SearchOptions, api: SearchApi) {
  const space = o.space === undefined ? undefined : await readSpaceFile(o.space, api.parseMlpSpace);
  const data = await trainingData(o, csvTaskOf(o.task), o.validationSplit);
  const { train, validation, test } = data;
  if (!validation) throw usageError('--validation-split must be above 0: trials are compared on validation rows, never on the test rows');
  // Pruning compares per-epoch scores of one objective; several objectives have no single score.
  const objectives = o.objectives ?? [train.task === 'regression' || o.task === 'regression' ? 'loss' : 'accuracy'];
  if (objectives.length > 1 && given(cmd, 'pruner') && o.pruner !== 'none')
    throw usageError(`--pruner ${o.pruner} needs a single objective; ${objectives.length} were given`);
  if (o.sampler === 'grid') {
    try {
      api.gridOfSpace(space ?? api.defaultSpace(train.shape));
    } catch (error) {
      throw usageError(`--sampler grid: ${(error as Error).message}`);
    }
  }
  const storage = openStorageFlag(api, o.storage, '');
  const options = {
    validation,
    objectives,
    trials: o.trials,
    epochs: o.epochs,
    seed: o.seed,
    sampler: o.sampler,
    pruner: objectives.length > 1 && !given(cmd, 'pruner') ? ('none' as const) : o.pruner,
    defaults: defaultsFrom(cmd, o),
    ...(o.task === 'auto' ? {} : { task: o.task }),
    ...(space ? { space } : {}),
    ...(o.timeBudget === undefined ? {} : { timeBudgetMs: o.timeBudget * 1000 }),
    studyName: o.study,
    ...(storage ? { storage } : {}),
  } satisfies SearchModelOptions;
  return { data, train, validation, test, objectives, storage, options };
}

async function search(cmd: Command, o: SearchOptions, api: SearchApi): Promise<void> {
  const stray = givenFlag(cmd, GRADIENT_KEYS);
  if (stray) throw usageError(`${stray} applies to --strategy gradient`);
  const started = performance.now();
  const { data, train, validation, test, objectives, storage, options } = await searchSetup(cmd, o, api);
  const reported = objectives.length === 1 && (objectives[0] === 'accuracy' || objectives[0] === 'loss');
  const bar = progressBar(o.trials, 'searching', o.json, '  best {best}', { best: '-' });
  const interrupt = interruptSignal();
  // Counted, not numbered: a resumed study numbers on, and with workers trials end in any order.
  let ended = 0;
  let found;
  try {
    found = await api.searchModel(train, {
      ...options,
      workers: o.workers,
      signal: interrupt.signal,
      onTrial: (_, best) => bar.update(++ended, { best: best ? `${fmt(best.values![0]!)} (trial ${best.number})` : '-' }),
    });
  } finally {
    bar.stop();
    interrupt.done();
    await storage?.close();
  }
  const { study, best, model } = found;
  try {
    // A CSV table's encoder, fitted on the training rows, goes into the model file.
    keepEncoder(model, data);
    if (o.exportCsv !== undefined) await writeFileAtomic(o.exportCsv, new TextEncoder().encode(study.toCSV()));
    const metrics = evaluate(model, test);
    const bytes = o.out === undefined ? modelBytes(model) : await writeModel(model, o.out);
    const importances = importancesOf(study);
    const seconds = (performance.now() - started) / 1000;
    const trials = study.trials;
    const count = (state: string) => trials.filter((t) => t.state === state).length;
    const pruner = reported ? o.pruner : 'none';

    if (o.json) {
      emitJson({
        command: 'search',
        study: study.name,
        sampler: o.sampler,
        pruner,
        objectives,
        directions: study.directions,
        trials: trials.map((t) => ({
          number: t.number,
          state: t.state,
          values: t.values,
          params: t.params,
          parameters: t.userAttrs.parameters ?? null,
          durationMs: t.durationMs,
          error: t.error,
        })),
        best: { number: best.number, params: best.params, values: best.values },
        paretoFront: objectives.length > 1 ? study.paretoFront.map((t) => t.number) : null,
        importances,
        architecture: architecture(model),
        parameters: model.parameterCount,
        bytes,
        out: o.out ?? null,
        metrics: metricsJson(metrics, model),
        rows: rowsJson(train, validation, test),
        seconds,
      });
      return;
    }
    out(
      `search      ${trials.length} trials (${count('complete')} complete, ${count('pruned')} pruned, ${count('failed')} failed), ${o.sampler} sampler, ${pruner === 'none' ? 'no' : pruner} pruner, ${seconds.toFixed(1)} s`,
    );
    out(`objectives  ${objectives.map((n, i) => `${study.directions[i]} validation ${n}`).join(', ')}`);
    out(`best        trial ${best.number}: ${objectives.map((n, i) => `${n} ${fmt(best.values![i]!)}`).join(', ')}`);
    out(`            ${paramsText(best.params)}`);
    if (importances)
      out(
        `importance  ${Object.entries(importances)
          .map(([k, v]) => `${k} ${fmt(v, 2)}`)
          .join(', ')}`,
      );
    out();
    const ranked = trials
      .filter((t) => t.state === 'complete')
      .sort((a, b) => rankKey(a, study) - rankKey(b, study) || a.number - b.number)
      .slice(0, 10);
    for (const line of table(
      ['trial', ...objectives, 'settings'],
      ranked.map((t) => [String(t.number), ...t.values!.map((v) => fmt(v)), paramsText(t.params)]),
    ))
      out(line);
    out();
    out(`model       ${architecture(model)}, ${model.parameterCount} parameters`);
    out(`test        ${metricsLine(metrics)}`);
    out(o.out === undefined ? `not saved   (give --out <file> to keep it)` : `saved       ${o.out}`);
  } finally {
    model.dispose();
  }
}

// A trial the reaper failed (its worker died) is retried, so it does not count against the budget.
const countsAgainstBudget = (t: FrozenTrial) =>
  t.state !== 'running' && !(t.state === 'failed' && /^(interrupted|stale):/.test(t.error ?? ''));

async function worker(cmd: Command, o: WorkerOptions, api: SearchApi): Promise<void> {
  if (o.storage === undefined) throw usageError('--storage (or KILN_STORAGE) is required: workers share a study through it');
  const heartbeatMs = o.heartbeat * 1000;
  const graceMs = o.grace * 1000;
  if (graceMs < 2 * heartbeatMs)
    throw usageError(`--grace ${o.grace} must be at least twice --heartbeat ${o.heartbeat}: one late beat must not fail a trial`);
  const { train, objectives, storage, options } = await searchSetup(cmd, o, api);
  // The same study and objective searchModel runs, in a study shared with other workers.
  const plan = api.planModelSearch(train, options);
  const study = await api.createStudy({ ...plan.study, heartbeatMs, graceMs, requeue: o.requeue });
  const interrupt = interruptSignal();
  const started = Date.now();
  const mine: FrozenTrial[] = [];
  try {
    for (;;) {
      if (interrupt.signal.aborted || (o.timeBudget !== undefined && Date.now() - started >= o.timeBudget * 1000)) break;
      await study.reap();
      const trials = study.trials;
      const spent = trials.filter(countsAgainstBudget).length;
      if (spent >= o.trials) break;
      // Every remaining trial of the budget runs elsewhere: wait for news (one of them may fail
      // and be re-enqueued) rather than start one too many.
      if (spent + trials.filter((t) => t.state === 'running').length >= o.trials) {
        await study.waitForChange(heartbeatMs);
        continue;
      }
      await study.optimize(plan.objective, {
        // A learning rate that diverges is a bad trial, not a reason to stop.
        trials: 1,
        catch: (error) => (error as Error)?.name === 'DivergenceError',
        signal: interrupt.signal,
        callbacks: [
          (s, t) => {
            mine.push(t);
            if (!o.json)
              out(
                `trial ${String(t.number).padStart(4)}  ${t.state.padEnd(8)} ${t.values ? objectives.map((n, i) => `${n} ${fmt(t.values![i]!)}`).join(', ') : (t.error ?? '')}  (best ${bestText(s)})`,
              );
          },
        ],
      });
    }
  } finally {
    interrupt.done();
    await study.close();
    await storage?.close();
  }
  const trials = study.trials;
  const summary = {
    study: o.study,
    ran: mine.length,
    finished: trials.filter(countsAgainstBudget).length,
    budget: o.trials,
    ignoredTells: study.ignoredTells,
    best: bestText(study),
    seconds: (Date.now() - started) / 1000,
  };
  if (o.json)
    emitJson({
      command: 'worker',
      ...summary,
      trials: mine.map((t) => ({ number: t.number, state: t.state, values: t.values, params: t.params, error: t.error })),
    });
  else
    out(
      `worker      ran ${summary.ran} trials of study '${o.study}' in ${summary.seconds.toFixed(1)} s; ${summary.finished} of ${o.trials} finished in all; best ${summary.best}`,
    );
}

// The best complete trial so far, by the first objective (ties to the lower number).
function bestText(study: Study): string {
  const [best] = study.trials
    .filter((t) => t.state === 'complete')
    .sort((a, b) => rankKey(a, study) - rankKey(b, study) || a.number - b.number);
  return best ? `${fmt(best.values![0]!)} (trial ${best.number})` : '-';
}

const rankKey = (t: FrozenTrial, study: Study): number => (study.directions[0] === 'maximize' ? -t.values![0]! : t.values![0]!);

// Importances need a few complete trials that vary; without them there is nothing to say.
function importancesOf(study: Study): Record<string, number> | null {
  try {
    return study.importances();
  } catch {
    return null;
  }
}

const paramsText = (params: Readonly<Record<string, ParamValue>>): string =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : v}`)
    .join(' ');
