// kiln search: hyperparameter and architecture search. Each trial trains a model with settings
// drawn from a search space and is scored on validation rows (never the test rows); the best
// trial is trained again with the same seed, scored on the test part and saved.
import type { Command } from 'commander';
import { DivergenceError, evaluate, fit, writeFileAtomic, type Evaluation, type Sequential } from '../../index.ts';
import type { ParamValue } from '../../search/distributions.ts';
import type { Pruner } from '../../search/pruners/pruner.ts';
import type { Sampler } from '../../search/samplers/sampler.ts';
import type { SpaceSpec } from '../../search/space.ts';
import type { Study } from '../../search/study.ts';
import type { StudyStorage } from '../../search/storage/storage.ts';
import type { Trial } from '../../search/trial.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { Direction, FrozenTrial } from '../../search/trial-record.ts';
import { architectureOptions, buildModel, csvTaskOf, taskOption, type ArchitectureFlags, type TaskFlag } from '../architecture-flags.ts';
import { keepEncoder, trainingData } from '../data.ts';
import { CliError, usageError } from '../errors.ts';
import { architecture, modelBytes, writeModel } from '../model.ts';
import { choice, commonOptions, given, givenFlag, integer, number, type CommonOptions } from '../options.ts';
import { emitJson, fmt, metricsJson, metricsLine, out, table } from '../print.ts';
import { interactive, progressBar } from '../progress.ts';
import { searchApi, type SearchApi } from '../library.ts';
import { readSpace, SPACE_NAMES, trialSettings } from '../search-space.ts';
import { GRADIENT_KEYS, gradientOptions, gradientStrategy, type GradientFlags } from './search-gradient.ts';
import { fitOptionsFrom, interruptSignal, trainingOptions, withEpochProgress, type TrainingFlags } from '../training-flags.ts';

type SamplerName = 'tpe' | 'random' | 'gp' | 'grid';
type PrunerName = 'median' | 'successive-halving' | 'hyperband' | 'none';
type Objective = 'accuracy' | 'loss' | 'parameters';

interface SearchOptions extends CommonOptions, TrainingFlags, ArchitectureFlags, GradientFlags {
  strategy: 'trials' | 'gradient';
  task: TaskFlag;
  labelSmoothing?: number;
  trials: number;
  timeout?: number;
  space?: string;
  sampler: SamplerName;
  pruner: PrunerName;
  objectives?: Objective[];
  storage?: string;
  study: string;
  exportCsv?: string;
}

interface WorkerOptions extends SearchOptions {
  heartbeat: number;
  grace: number;
  requeue: boolean;
}

/** Flags of the trials strategy only. */
const TRIAL_KEYS = ['trials', 'timeout', 'space', 'sampler', 'pruner', 'objectives', 'storage', 'study', 'exportCsv', 'layers', 'activation', 'dropout'];

const DIRECTION: Readonly<Record<Objective, Direction>> = { accuracy: 'maximize', loss: 'minimize', parameters: 'minimize' };

const STORAGE_HELP = 'where the study lives: a journal file (JSON lines; processes on one host may share it), postgres://user@host/db or redis://host:6379 (default: $KILN_STORAGE); run again to resume it';

// The flags a search trial is defined by, shared by `kiln search` and `kiln worker`.
function trialFlags(cmd: Command, trialsText: string): Command {
  cmd
      .option('--trials <n>', trialsText, integer(1, 1e6), 20)
      .option('--timeout <seconds>', 'stop starting trials after this long', number(0))
      .option('--space <file>', `JSON search space (default: lr, layers, units_{i}, activation, dropout, batch_size); names: ${Object.keys(SPACE_NAMES).join(', ')}`)
      .addOption(choice('--sampler <name>', 'how trials are proposed (grid: every combination of a categorical space)', ['tpe', 'random', 'gp', 'grid']).default('tpe'))
      .addOption(choice('--pruner <name>', 'how hopeless trials are stopped early, from their per-epoch validation scores', ['median', 'successive-halving', 'hyperband', 'none']).default('median'))
      .option('--objectives <list>', 'what to optimize on the validation rows, comma-separated: accuracy (maximize), loss (minimize), parameters (minimize); several give a Pareto front (default: accuracy, or loss for regression)', objectiveList)
      .option('--storage <url>', STORAGE_HELP, process.env.KILN_STORAGE || undefined)
      .option('--study <name>', 'name of the study in the storage', 'kiln');
  architectureOptions(cmd, [64]);
  return taskOption(cmd).option('--label-smoothing <eps>', 'label smoothing of the cross-entropy', number(0, 0.999999));
}

export function registerSearch(program: Command): void {
  const api = searchApi;
  const strategies = ['trials', 'gradient'];
  const cmd = program.command('search').description('search hyperparameters and architecture on validation rows; train the best again, score it on the test rows and save it');
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'out', 'table', 'classes'], { out: 'model file to write the chosen model to (atomically)' })
    .addOption(choice('--strategy <name>', 'trials: train a model per trial (samplers, pruners); gradient: one super-network learns widths and activations (DARTS)', strategies).default(strategies[0]));
  trialFlags(cmd, 'trials to run').option('--export-csv <file>', 'write every trial as CSV');
  gradientOptions(cmd);
  trainingOptions(cmd, { epochs: 20, validationSplit: 0.2, epochsText: 'training epochs of each trial (unless the space sets epochs), and of the chosen model' });
  cmd.addHelpText('after', `
The flags set everything the space does not: a space naming lr overrides --lr in each trial.
A space file uses the library's JSON format, for example:
  { "lr": { "float": [1e-4, 1e-1], "log": true },
    "optimizer": { "categorical": ["adam", "sgd"] },
    "momentum": { "float": [0.5, 0.99], "if": { "optimizer": "sgd" } },
    "layers": { "int": [1, 3] },
    "units_{i}": { "int": [16, 256], "log": true, "for": "layers" } }

Examples:
  kiln search --data iris --trials 30 --epochs 40 --out best.safetensors
  kiln search --data mnist --space space.json --sampler tpe --pruner hyperband --trials 50 --storage mnist.jsonl
  kiln search --data mnist --trials 200 --storage postgres://kiln@db/kiln --study mnist   (with kiln worker elsewhere)
  kiln search --data iris --objectives accuracy,parameters --trials 40 --json
  kiln search --data mnist --strategy gradient --candidate-widths 32,64,128 --size-penalty 0.05 --search-epochs 8`);
  cmd.action((o: SearchOptions) => (o.strategy === 'gradient' ? gradientStrategy(cmd, o, TRIAL_KEYS) : search(cmd, o, api)));
}

function objectiveList(value: string): Objective[] {
  const names = value.split(',').map((s) => s.trim());
  for (const n of names) if (!(n in DIRECTION)) throw usageError(`--objectives: unknown objective '${n}'; use accuracy, loss, parameters`);
  if (new Set(names).size !== names.length) throw usageError(`--objectives names an objective twice: ${value}`);
  return names as Objective[];
}

function samplerFor(api: SearchApi, name: SamplerName, space: SpaceSpec, seed: number): Sampler {
  if (name === 'random') return new api.RandomSampler({ seed });
  if (name === 'gp') return new api.GpSampler({ seed });
  if (name === 'tpe') return new api.TpeSampler({ seed });
  const grid: Record<string, ParamValue[]> = {};
  for (const [param, spec] of Object.entries(space)) {
    if (!('categorical' in spec) || spec.if !== undefined || spec.for !== undefined) throw usageError(`--sampler grid needs a space of plain categorical parameters; '${param}' is not one`);
    grid[param] = spec.categorical;
  }
  return new api.GridSampler({ space: grid, seed });
}

function prunerFor(api: SearchApi, name: PrunerName): Pruner {
  if (name === 'median') return new api.MedianPruner();
  if (name === 'successive-halving') return new api.SuccessiveHalvingPruner();
  if (name === 'hyperband') return new api.HyperbandPruner();
  return new api.NopPruner();
}

function objectiveValue(name: Objective, e: Evaluation, model: Sequential): number {
  if (name === 'parameters') return model.parameterCount;
  if (e.task === 'classification') return name === 'accuracy' ? e.accuracy : e.logLoss;
  return e.mse;
}

export function registerWorker(program: Command): void {
  const api = searchApi;
  const cmd = program.command('worker').description('train trials of a study kept in a shared storage until its trial budget is spent; run any number of these, on any hosts');
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test']);
  trialFlags(cmd, 'the study\'s budget: trials finished by all workers together')
    .option('--heartbeat <seconds>', 'how often running trials beat', number(0.01), 10)
    .option('--grace <seconds>', 'a trial whose beat is older than this is failed and re-enqueued (at least twice --heartbeat)', number(0.02), 60)
    .option('--no-requeue', 'fail dead workers\' trials without re-enqueuing their parameters');
  trainingOptions(cmd, { epochs: 20, validationSplit: 0.2, epochsText: 'training epochs of each trial (unless the space sets epochs)' });
  cmd.addHelpText('after', `
Every worker of a study needs the same data, space and flags (the study records trials, not the
objective). Killing a worker is safe: its trial is failed and re-enqueued after --grace seconds (at
once when it ran on the same host), and another worker trains it again.

Examples:
  kiln worker --storage postgres://kiln@db.example/kiln --study mnist --data mnist --trials 200
  KILN_STORAGE=redis://cache:6379 kiln worker --study iris --data iris --trials 100 --epochs 30`);
  cmd.action((o: WorkerOptions) => worker(cmd, o, api));
}

interface TrialSetup {
  space: SpaceSpec;
  train: Dataset;
  validation: Dataset;
  test: Dataset;
  objectives: Objective[];
  reported: Objective | undefined;
  storage: (StudyStorage & { close(): unknown }) | undefined;
  study: Study;
  objective: (trial: Trial) => Promise<number[]>;
  /** The rows with how they were read (the table encoder the final model keeps). */
  data: Awaited<ReturnType<typeof trainingData>>;
}

// What search and worker share: the data, the objectives, the study in its storage and the
// objective that trains one trial.
async function trialSetup(cmd: Command, o: SearchOptions, api: SearchApi, shared?: { heartbeatMs: number; graceMs: number; requeue: boolean }): Promise<TrialSetup> {
  const space = await readSpace(o.space, api.parseSpace);
  const data = await trainingData(o, csvTaskOf(o.task), o.validationSplit);
  const { train, validation, test } = data;
  if (!validation) throw usageError('--validation-split must be above 0: trials are compared on validation rows, never on the test rows');
  const regression = train.task === 'regression' || o.task === 'regression';
  const objectives = o.objectives ?? [regression ? 'loss' : 'accuracy'];
  if (regression && objectives.includes('accuracy')) throw usageError('--objectives accuracy needs classification data; use loss for regression');
  // Pruning compares per-epoch scores of one objective; several objectives have no single score.
  if (objectives.length > 1 && given(cmd, 'pruner') && o.pruner !== 'none') throw usageError(`--pruner ${o.pruner} needs a single objective; ${objectives.length} were given`);
  const reported = objectives.length === 1 && objectives[0] !== 'parameters' ? objectives[0]! : undefined;

  let storage: TrialSetup['storage'];
  try {
    storage = o.storage === undefined ? undefined : api.openStorage(o.storage, { onWarning: (m) => process.stderr.write(`kiln: warning: ${m}\n`) });
  } catch (error) {
    throw usageError(`--storage: ${(error as Error).message}`);
  }
  const study = await api.createStudy({
    name: o.study, directions: objectives.map((n) => DIRECTION[n]), seed: o.seed, loadIfExists: true,
    sampler: samplerFor(api, o.sampler, space, o.seed), pruner: reported ? prunerFor(api, o.pruner) : new api.NopPruner(), ...(storage ? { storage } : {}),
    ...(shared ?? {}),
  });
  const objective = async (trial: Trial): Promise<number[]> => {
      const settings = trialSettings(api.sampleSpace(trial, space), o);
      const model = buildModel(settings, o.task, train, o.seed);
      try {
        await fit(model, train, {
          ...fitOptionsFrom(cmd, settings, o.seed, validation),
          ...(reported ? { onEpoch: (log) => {
            trial.report(reported === 'accuracy' ? log.valAccuracy! : log.valLoss!, log.epoch);
            if (trial.shouldPrune()) throw new api.TrialPruned(`pruned after epoch ${log.epoch}`);
          } } : {}),
        });
        trial.setUserAttr('parameters', model.parameterCount);
        const scores = evaluate(model, validation);
        return objectives.map((n) => objectiveValue(n, scores, model));
      } finally {
        model.dispose();
      }
  };
  return { space, train, validation, test, objectives, reported, storage, study, objective, data };
}

async function search(cmd: Command, o: SearchOptions, api: SearchApi): Promise<void> {
  const stray = givenFlag(cmd, GRADIENT_KEYS);
  if (stray) throw usageError(`${stray} applies to --strategy gradient`);
  const started = performance.now();
  const { train, validation, test, objectives, reported, storage, study, objective, data } = await trialSetup(cmd, o, api);
  const earlier = study.trials.length;
  const bar = progressBar(o.trials, 'searching', o.json, '  best {best}', { best: '-' });
  const interrupt = interruptSignal();
  try {
    await study.optimize(objective, {
      trials: o.trials,
      ...(o.timeout === undefined ? {} : { timeoutMs: o.timeout * 1000 }),
      // A learning rate that diverges is a bad trial, not a reason to stop searching.
      catch: (error) => error instanceof DivergenceError,
      signal: interrupt.signal,
      callbacks: [(s, t) => bar.update(t.number + 1 - earlier, { best: bestText(s, objectives) })],
    });
  } finally {
    bar.stop();
    interrupt.done();
    await study.flush();
  }
  if (o.exportCsv !== undefined) await writeFileAtomic(o.exportCsv, new TextEncoder().encode(study.toCSV()));
  await storage?.close();

  const best = bestTrial(study, objectives);
  const settings = trialSettings(best.params, o);
  const model = buildModel(settings, o.task, train, o.seed);
  // A bar at a terminal; no epoch table in logs, where the search summary says what matters.
  await withEpochProgress(settings.epochs, 'training the best trial', !interactive(o.json), (hooks) => fit(model, train, { ...fitOptionsFrom(cmd, settings, o.seed, validation), ...hooks }));
  keepEncoder(model, data);
  const metrics = evaluate(model, test);
  const bytes = o.out === undefined ? modelBytes(model) : await writeModel(model, o.out);
  const importances = importancesOf(study);
  const seconds = (performance.now() - started) / 1000;
  const trials = study.trials;
  const count = (state: string) => trials.filter((t) => t.state === state).length;

  if (o.json) {
    emitJson({
      command: 'search', study: o.study, sampler: o.sampler, pruner: reported ? o.pruner : 'none', objectives, directions: study.directions,
      trials: trials.map((t) => ({ number: t.number, state: t.state, values: t.values, params: t.params, parameters: t.userAttrs.parameters ?? null, durationMs: t.durationMs, error: t.error })),
      best: { number: best.number, params: best.params, values: best.values },
      paretoFront: objectives.length > 1 ? study.paretoFront.map((t) => t.number) : null,
      importances, architecture: architecture(model), parameters: model.parameterCount, bytes, out: o.out ?? null, metrics: metricsJson(metrics),
      rows: { train: train.numRows, validation: validation.numRows, test: test.numRows }, seconds,
    });
    return;
  }
  out(`search      ${trials.length} trials (${count('complete')} complete, ${count('pruned')} pruned, ${count('failed')} failed), ${o.sampler} sampler, ${reported ? o.pruner : 'no'} pruner, ${seconds.toFixed(1)} s`);
  out(`objectives  ${objectives.map((n) => `${DIRECTION[n]} validation ${n}`).join(', ')}`);
  out(`best        trial ${best.number}: ${objectives.map((n, i) => `${n} ${fmt(best.values![i]!)}`).join(', ')}`);
  out(`            ${paramsText(best.params)}`);
  if (importances) out(`importance  ${Object.entries(importances).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
  out();
  const ranked = trials.filter((t) => t.state === 'complete').sort((a, b) => rankKey(a, study.directions) - rankKey(b, study.directions)).slice(0, 10);
  for (const line of table(['trial', ...objectives, 'settings'], ranked.map((t) => [String(t.number), ...t.values!.map((v) => fmt(v)), paramsText(t.params)]))) out(line);
  out();
  out(`model       ${architecture(model)}, ${model.parameterCount} parameters`);
  out(`test        ${metricsLine(metrics)}`);
  out(o.out === undefined ? `not saved   (give --out <file> to keep it)` : `saved       ${o.out}`);
}

// A trial the reaper failed (its worker died) is retried, so it does not count against the budget.
const countsAgainstBudget = (t: FrozenTrial) => t.state !== 'running' && !(t.state === 'failed' && /^(interrupted|stale):/.test(t.error ?? ''));

async function worker(cmd: Command, o: WorkerOptions, api: SearchApi): Promise<void> {
  if (o.storage === undefined) throw usageError('--storage (or KILN_STORAGE) is required: workers share a study through it');
  const heartbeatMs = o.heartbeat * 1000;
  const graceMs = o.grace * 1000;
  if (graceMs < 2 * heartbeatMs) throw usageError(`--grace ${o.grace} must be at least twice --heartbeat ${o.heartbeat}: one late beat must not fail a trial`);
  const { study, storage, objective, objectives } = await trialSetup(cmd, o, api, { heartbeatMs, graceMs, requeue: o.requeue });
  const interrupt = interruptSignal();
  const started = Date.now();
  const mine: FrozenTrial[] = [];
  try {
    for (;;) {
      if (interrupt.signal.aborted || (o.timeout !== undefined && Date.now() - started >= o.timeout * 1000)) break;
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
      await study.optimize(objective, {
        trials: 1, catch: (error) => error instanceof DivergenceError, signal: interrupt.signal,
        callbacks: [(s, t) => {
          mine.push(t);
          if (!o.json) out(`trial ${String(t.number).padStart(4)}  ${t.state.padEnd(8)} ${t.values ? objectives.map((n, i) => `${n} ${fmt(t.values![i]!)}`).join(', ') : t.error ?? ''}  (best ${bestText(s, objectives)})`);
        }],
      });
    }
  } finally {
    interrupt.done();
    await study.close();
    await storage?.close();
  }
  const trials = study.trials;
  const summary = { study: o.study, ran: mine.length, finished: trials.filter(countsAgainstBudget).length, budget: o.trials, ignoredTells: study.ignoredTells, best: bestText(study, objectives), seconds: (Date.now() - started) / 1000 };
  if (o.json) emitJson({ command: 'worker', ...summary, trials: mine.map((t) => ({ number: t.number, state: t.state, values: t.values, params: t.params, error: t.error })) });
  else out(`worker      ran ${summary.ran} trials of study '${o.study}' in ${summary.seconds.toFixed(1)} s; ${summary.finished} of ${o.trials} finished in all; best ${summary.best}`);
}

// Single objective: the study's best. Several: of the Pareto front, the best on the first.
function bestTrial(study: Study, objectives: readonly Objective[]): FrozenTrial {
  const complete = study.trials.filter((t) => t.state === 'complete');
  if (complete.length === 0) {
    const failed = study.trials.find((t) => t.state === 'failed');
    throw new CliError(`no trial completed (${study.trials.length} ran)${failed?.error ? `; trial ${failed.number} failed: ${failed.error}` : ''}`);
  }
  if (objectives.length === 1) return study.bestTrial;
  return study.paretoFront.sort((a, b) => rankKey(a, study.directions) - rankKey(b, study.directions))[0]!;
}

const rankKey = (t: FrozenTrial, directions: readonly Direction[]): number => (directions[0] === 'maximize' ? -t.values![0]! : t.values![0]!);

function bestText(study: Study, objectives: readonly Objective[]): string {
  try {
    const best = bestTrial(study, objectives);
    return `${fmt(best.values![0]!)} (trial ${best.number})`;
  } catch {
    return '-';
  }
}

// Importances need a few complete trials that vary; without them there is nothing to say.
function importancesOf(study: Study): Record<string, number> | null {
  try {
    return study.importances();
  } catch {
    return null;
  }
}

const paramsText = (params: Readonly<Record<string, ParamValue>>): string =>
  Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : v}`).join(' ');

