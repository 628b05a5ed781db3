// The one-call path from a data set to a small, fast model: a seeded stratified split, a model
// search (or a baseline), distillation into a narrower student, pruning, int8 quantisation, and
// every stage measured on the same test rows. Runs wherever the library runs: files are written
// by the caller (savePipeline in Node, Deno and Bun; a download in a browser).
import { checkKnownKeys } from '../core/errors.ts';
import { distill } from '../compress/distill.ts';
import { pruneIteratively } from '../compress/prune/schedule.ts';
import { quantize } from '../compress/quant/quantize.ts';
import { Dataset } from '../data/dataset.ts';
import { trainTestSplit } from '../data/split.ts';
import { modelFromBytes, modelToBytes } from '../io/model-file.ts';
import { Sequential } from '../nn/sequential.ts';
import type { FrozenTrial } from '../search/trial-record.ts';
import { abortReason, fit, type EpochLog } from '../train/fit.ts';
import {
  finalEvaluation,
  latenciesUs,
  predictor,
  settingsRecord,
  stageFile,
  stageNonZeros,
  testAccuracy,
  type StageModel,
} from './measure.ts';
import { resolveOptions, type PipelineOptions, type ResolvedOptions } from './options.ts';
import { searchModel, type SearchModelResult } from '../model-search/search-model.ts';
import { mlpFitOptions, mlpLayers, type MlpSettings } from '../model-search/settings.ts';
import { OBJECTIVE_DIRECTION } from '../model-search/space.ts';
import { paretoFront, selectWithinBudget, type CompressionCandidate, type CompressionStudy } from './budget.ts';
import type { QuantizedModel } from '../compress/quant/model.ts';
import type { Teacher } from '../train/distillation.ts';
import { DEFAULT_PRUNER, DEFAULT_SAMPLER } from '../model-search/components.ts';
import type {
  CurvePoint,
  FinalEvaluation,
  PipelineEvent,
  PipelineHooks,
  PipelineResult,
  RowStage,
  StageCurve,
  StageRow,
  StageSettings,
  TrialSummary,
} from './types.ts';

const WHERE = 'runPipeline';

/**
 * Runs the pipeline on a classification data set and returns the stage table, the search's
 * trials, the accuracy/bytes Pareto front, training curves, parameter importances and the final
 * model file's bytes. `hooks.onEvent` receives progress as it happens; `hooks.signal` cancels.
 *
 * @example
 * const result = await runPipeline(await mnist(), { search: { trials: 20, timeBudgetMs: 60_000 } },
 *   { onEvent: (e) => e.type === 'stage-end' && console.log(e.row) });
 * await savePipeline(result, 'out'); // out/model.safetensors, out/report.html, out/pipeline.json
 */
export async function runPipeline(data: Dataset, options: PipelineOptions = {}, hooks: PipelineHooks = {}): Promise<PipelineResult> {
  if (!(data instanceof Dataset)) throw new TypeError(`${WHERE}: data must be a Dataset, got ${data === null ? 'null' : typeof data}`);
  if (data.task !== 'classification') throw new TypeError(`${WHERE}: the pipeline builds classifiers; this data set is regression`);
  const o = resolveOptions(options);
  if (hooks === null || typeof hooks !== 'object') throw new TypeError(`${WHERE}: hooks must be an object { onEvent, signal }`);
  checkKnownKeys(`${WHERE} hooks`, hooks, ['onEvent', 'signal']);
  const run = new Run(data, o, hooks);
  try {
    return await run.all();
  } finally {
    run.dispose();
  }
}

class Run {
  readonly started = performance.now();
  readonly train: Dataset;
  readonly validation: Dataset;
  readonly test: Dataset;
  readonly classes: number;
  readonly rows: StageRow[] = [];
  readonly curves: StageCurve[] = [];
  readonly stageSettings: StageSettings[] = [];
  #evaluation: FinalEvaluation | undefined;
  #owned: { dispose(): void }[] = [];
  #predictors: ((x: Float32Array) => unknown)[] = [];
  #lastFile: { bytes: Uint8Array; format: string } = { bytes: new Uint8Array(0), format: '' };
  #lastModel: StageModel | undefined;

  constructor(
    data: Dataset,
    readonly o: ResolvedOptions,
    readonly hooks: PipelineHooks,
  ) {
    const split = trainTestSplit(data, { testFraction: o.testFraction, validationFraction: o.validationFraction, seed: o.seed });
    this.train = split.train;
    this.validation = split.validation!;
    this.test = split.test;
    this.classes = data.numClasses;
  }

  emit(e: PipelineEvent): void {
    this.hooks.onEvent?.(e);
  }

  own<T extends { dispose(): void }>(x: T): T {
    this.#owned.push(x);
    return x;
  }

  checkAborted(): void {
    if (this.hooks.signal?.aborted) throw abortReason(this.hooks.signal);
  }

  /** Curve points of a stage, streamed as epoch events. */
  recorder(stage: RowStage): { points: CurvePoint[]; onEpoch: (log: EpochLog) => void } {
    const points: CurvePoint[] = [];
    return {
      points,
      onEpoch: (log) => {
        const point = curvePoint(points.length + 1, log);
        points.push(point);
        this.emit({ type: 'epoch', stage, point });
      },
    };
  }

  async all(): Promise<PipelineResult> {
    const o = this.o;
    const stages: RowStage[] = [o.stages.includes('search') ? 'search' : 'train', ...o.stages.filter((s) => s !== 'search')];
    this.emit({ type: 'start', stages, rows: this.rowCounts(), features: this.train.numFeatures, classes: this.classes });
    const first = o.stages.includes('search') ? await this.search() : await this.baseline();
    let current = first.model;
    const settings = first.settings;
    const teacher = first.teachers.length > 1 ? first.teachers : current;
    let compression: CompressionStudy | null = null;
    if (o.maxDrop !== undefined && o.stages.some((s) => s !== 'search'))
      compression = await this.study(current, teacher, settings, o.maxDrop);
    else {
      if (o.stages.includes('distill')) current = await this.distill(current, teacher, settings);
      if (o.stages.includes('prune')) current = await this.prune(current, settings);
      if (o.stages.includes('quantize')) this.quantize(current);
    }
    this.remeasureLatency();
    this.#evaluation = finalEvaluation(this.#lastModel!, this.rows.at(-1)!.stage, this.test);
    const searched = first.search;
    const seconds = (performance.now() - this.started) / 1000;
    const result: PipelineResult = {
      seed: o.seed,
      data: { features: this.train.numFeatures, classes: this.train.classNames.slice(), rows: this.rowCounts() },
      stages: this.rows,
      objectives: searched ? searched.objectives : [],
      directions: searched ? searched.objectives.map((x) => OBJECTIVE_DIRECTION[x]) : [],
      trials: searched ? searched.study.trials.map(trialSummary) : [],
      bestTrial: searched ? searched.best.number : null,
      paretoFront: searched
        ? searched.accuracyBytesFront.map((t) => ({
            trial: t.number,
            accuracy: t.userAttrs.accuracy as number,
            bytes: t.userAttrs.bytes as number,
          }))
        : [],
      importances: searched ? importancesOf(searched) : null,
      settings,
      curves: this.curves,
      compression,
      stageSettings: this.stageSettings,
      evaluation: this.#evaluation,
      model: { stage: this.rows.at(-1)!.stage, format: this.#lastFile.format, bytes: this.#lastFile.bytes },
      seconds,
    };
    this.emit({ type: 'end', seconds });
    return result;
  }

  rowCounts() {
    return { train: this.train.numRows, validation: this.validation.numRows, test: this.test.numRows };
  }

  async search(): Promise<{ model: Sequential; teachers: Sequential[]; settings: MlpSettings; search: SearchModelResult }> {
    const o = this.o;
    this.emit({ type: 'stage-start', stage: 'search' });
    const t0 = performance.now();
    const found = await searchModel(this.train, {
      validation: this.validation,
      ...(o.space ? { space: o.space } : {}),
      trials: o.trials,
      objectives: o.objectives,
      epochs: o.searchEpochs,
      defaults: o.baseline,
      seed: o.seed,
      workers: o.workers,
      // The best trials' models teach together (an ensemble) when a student is distilled.
      keep: o.stages.includes('distill') ? o.teachers : 1,
      ...(o.timeBudgetMs !== undefined ? { timeBudgetMs: o.timeBudgetMs } : {}),
      ...(o.sampler ? { sampler: o.sampler } : {}),
      ...(o.pruner ? { pruner: o.pruner } : {}),
      ...(this.hooks.signal ? { signal: this.hooks.signal } : {}),
      onTrialEpoch: (trial, log) =>
        this.emit({ type: 'trial-epoch', trial, epoch: log.epoch, loss: log.loss, valLoss: log.valLoss!, valAccuracy: log.valAccuracy! }),
      onTrial: (trial, best) => this.emit({ type: 'trial', trial: trialSummary(trial), bestTrial: best?.number ?? null }),
    });
    for (const t of found.topModels) this.own(t.model);
    const searchSettings = {
      trials: o.trials,
      ...(o.timeBudgetMs !== undefined ? { timeBudgetMs: o.timeBudgetMs } : {}),
      sampler: componentName(o.sampler ?? DEFAULT_SAMPLER),
      pruner: componentName(o.pruner ?? DEFAULT_PRUNER),
      objectives: o.objectives.join(', '),
      trialEpochs: o.searchEpochs,
      workers: o.workers,
      ...found.settings,
    };
    this.finish(
      'search',
      { kind: 'float', model: found.model },
      t0,
      found.history.epochs.map((log, i) => curvePoint(i + 1, log)),
      searchSettings,
    );
    this.teacherTrials = found.topModels.map((t) => t.trial);
    return { model: found.model, teachers: found.topModels.map((t) => t.model), settings: found.settings, search: found };
  }

  /** Trial numbers of the search models that teach (one: the searched model alone). */
  teacherTrials: number[] = [];

  async baseline(): Promise<{ model: Sequential; teachers: Sequential[]; settings: MlpSettings; search?: undefined }> {
    const o = this.o;
    this.emit({ type: 'stage-start', stage: 'train' });
    const t0 = performance.now();
    const settings = o.baseline;
    const model = this.own(new Sequential({ inputs: this.train.numFeatures, layers: mlpLayers(settings, this.classes), seed: o.seed }));
    const curve = this.recorder('train');
    await fit(model, this.train, { ...this.trainingOptions(settings), epochs: settings.epochs, onEpoch: curve.onEpoch });
    this.finish('train', { kind: 'float', model }, t0, curve.points, settings);
    return { model, teachers: [model], settings };
  }

  trainingOptions(settings: MlpSettings) {
    // The search's optimizer and batch size; each stage sets its own epochs.
    const { optimizer, batchSize } = mlpFitOptions(settings);
    return {
      optimizer,
      batchSize,
      validation: this.validation,
      seed: this.o.seed,
      ...(this.hooks.signal ? { signal: this.hooks.signal } : {}),
    };
  }

  async distill(searched: Sequential, teacher: Teacher, settings: MlpSettings): Promise<Sequential> {
    const o = this.o;
    this.checkAborted();
    this.emit({ type: 'stage-start', stage: 'distill' });
    const t0 = performance.now();
    // A quarter of the teacher's widths: small enough to pay off in bytes and latency, wide
    // enough that the soft targets can still be matched (at least 8 units). A CNN teacher
    // (image rows) teaches an MLP of its head's widths (at least 64) over the flat pixels, which
    // the prune and quantize stages take as they take any MLP.
    const cnn = (settings.convBlocks?.length ?? 0) > 0;
    const widths = o.studentWidths ?? settings.layers.map((w) => (cnn ? Math.max(64, w) : Math.max(8, Math.round(w / 4))));
    const { student, points } = await this.distilled(searched.inputs, teacher, settings, widths, true);
    this.finish('distill', { kind: 'float', model: student }, t0, points, this.distillSettings(widths, settings));
    return student;
  }

  /** A student of `widths` distilled from `teacher` (epoch events when `live`). */
  async distilled(inputs: number, teacher: Teacher, settings: MlpSettings, widths: number[], live: boolean) {
    const o = this.o;
    const student = this.own(
      new Sequential({
        inputs,
        layers: mlpLayers({ ...settings, convBlocks: [], layers: widths, dropout: 0 }, this.classes),
        seed: o.seed,
      }),
    );
    const curve = this.recorder('distill');
    const { validation: _, ...training } = this.trainingOptions(settings);
    await distill({
      teacher,
      student,
      data: this.train,
      validation: this.validation,
      temperature: o.temperature,
      alpha: o.alpha,
      epochs: o.distillEpochs,
      ...(o.augment ? { augment: o.augment } : {}),
      ...training,
      ...(live ? { onEpoch: curve.onEpoch } : {}),
    });
    return { student, points: curve.points };
  }

  async prune(model: Sequential, settings: MlpSettings): Promise<Sequential> {
    this.checkAborted();
    this.emit({ type: 'stage-start', stage: 'prune' });
    const t0 = performance.now();
    const { pruned, points } = await this.pruned(model, settings, true);
    this.finish('prune', { kind: 'float', model: pruned }, t0, points, this.pruneSettings(settings));
    return pruned;
  }

  /** `model` pruned as the options say (a copy when unstructured; epoch events when `live`):
   *  from `fromSparsity` (what `model` has had removed already) to `sparsity` of the original. */
  async pruned(model: Sequential, settings: MlpSettings, live: boolean, fromSparsity = 0, sparsity = this.o.sparsity) {
    const o = this.o;
    const structured = o.pruneMethod === 'structured';
    // Structured pruning counts neurons and filters from the model it is given: the share of
    // what is left that takes the original's share from fromSparsity to sparsity.
    const schedule = structured
      ? { finalSparsity: 1 - (1 - sparsity) / (1 - fromSparsity) }
      : { initialSparsity: fromSparsity, finalSparsity: sparsity };
    // Unstructured pruning works in place: prune a copy, so the previous stage stays measurable.
    const start = structured ? model : this.own(modelFromBytes(modelToBytes(model, 'dense')));
    const curve = this.recorder('prune');
    const { model: pruned } = await pruneIteratively(start, this.train, {
      ...schedule,
      steps: o.pruneSteps,
      structured,
      evaluation: this.validation,
      latency: false,
      fineTune: {
        ...this.trainingOptions(settings),
        epochs: o.fineTuneEpochs,
        standardize: false,
        ...(live ? { onEpoch: curve.onEpoch } : {}),
      },
    });
    if (pruned !== start) this.own(pruned);
    return { pruned, points: curve.points };
  }

  quantize(model: Sequential): void {
    this.checkAborted();
    this.emit({ type: 'stage-start', stage: 'quantize' });
    const t0 = performance.now();
    this.finish('quantize', { kind: 'quantized', model: this.quantized(model) }, t0, [], this.quantizeSettings());
  }

  /** What the report shows of each compression stage's settings. */
  distillSettings(widths: number[], settings: MlpSettings): object {
    const o = this.o;
    const { optimizer, lr, weightDecay, batchSize, activation } = settings;
    return {
      layers: widths,
      activation,
      epochs: o.distillEpochs,
      temperature: o.temperature,
      alpha: o.alpha,
      teachers: this.teacherTrials.length > 1 ? `trials ${this.teacherTrials.join(', ')} (mean probabilities)` : 'the searched model',
      optimizer,
      lr,
      weightDecay,
      batchSize,
    };
  }

  pruneSettings(settings: MlpSettings, sparsity = this.o.sparsity): object {
    const o = this.o;
    return {
      method: o.pruneMethod,
      sparsity,
      steps: o.pruneSteps,
      fineTuneEpochs: o.fineTuneEpochs,
      optimizer: settings.optimizer,
      lr: settings.lr,
      batchSize: settings.batchSize,
    };
  }

  quantizeSettings(): object {
    const o = this.o;
    const calibrated = o.scheme === 'int8-per-tensor' || o.scheme === 'int8-per-channel';
    return {
      scheme: o.scheme,
      ...(calibrated ? { calibrationRows: Math.min(o.calibrationRows, this.train.numRows), calibration: o.calibrationMethod } : {}),
    };
  }

  quantized(model: Sequential): QuantizedModel {
    const o = this.o;
    const calibrated = o.scheme === 'int8-per-tensor' || o.scheme === 'int8-per-channel';
    // The split shuffled the training rows, so the first ones are a random sample of them.
    const rows = this.train.subset(Int32Array.from({ length: Math.min(o.calibrationRows, this.train.numRows) }, (_, i) => i));
    const q = this.own(
      quantize(model, calibrated ? { scheme: o.scheme, calibration: { data: rows, method: o.calibrationMethod } } : { scheme: o.scheme }),
    );
    return q;
  }

  /**
   * The accuracy budget: distil, prune and quantize as a study. Candidates are the searched
   * model and students of ½, ¼ and ⅛ its widths (or distill.widths), each as it is, pruned and
   * quantised as the stages say; each is measured on the validation rows (accuracy, file bytes,
   * batch-1 latency). The chosen one is the smallest (or fastest) within maxDrop of the searched
   * model's validation accuracy; its stages then get their rows, measured on the test rows.
   */
  async study(searched: Sequential, teacher: Teacher, settings: MlpSettings, maxDrop: number): Promise<CompressionStudy> {
    const o = this.o;
    const stages = new Set(o.stages);
    const rounds = Math.min(o.latencyRepeats, 30);
    interface Path {
      candidate: CompressionCandidate;
      steps: { stage: RowStage; model: StageModel; points: CurvePoint[]; seconds: number; settings: object }[];
    }
    const paths: Path[] = [];
    const measure = (m: StageModel, c: Omit<CompressionCandidate, 'accuracy' | 'bytes' | 'latencyUs' | 'name'>, steps: Path['steps']) => {
      const run = predictor(m);
      try {
        const candidate: CompressionCandidate = {
          ...c,
          name: `${describe(m)}${c.pruning === 'none' ? '' : `, ${c.pruning} ${Math.round(c.sparsity * 100)}%`}`,
          accuracy: testAccuracy(m, this.validation),
          bytes: stageFile(m).bytes.length,
          latencyUs: latenciesUs([run.predict], this.validation, rounds)[0]!,
        };
        paths.push({ candidate, steps });
      } finally {
        run.dispose();
      }
    };
    const variants = async (
      model: Sequential,
      base: Omit<CompressionCandidate, 'accuracy' | 'bytes' | 'latencyUs' | 'name'>,
      steps: Path['steps'],
    ) => {
      measure({ kind: 'float', model }, base, steps);
      if (stages.has('quantize')) {
        const t0 = performance.now();
        const q = this.quantized(model);
        measure({ kind: 'quantized', model: q }, { ...base, format: o.scheme }, [
          ...steps,
          {
            stage: 'quantize',
            model: { kind: 'quantized', model: q },
            points: [],
            seconds: (performance.now() - t0) / 1000,
            settings: this.quantizeSettings(),
          },
        ]);
      }
      // Structured pruning takes CNNs too (whole filters); unstructured masks cover dense
      // layers only, so a CNN is then a candidate as it is and in int8. Each share of the
      // ladder prunes further from the one before, so one fine-tuned path yields every rung.
      if (stages.has('prune') && (o.pruneMethod === 'structured' || !model.layers.some((l) => l.type === 'conv2d'))) {
        let from = model,
          fromSparsity = 0;
        let prior: Path['steps'] = [];
        for (const sparsity of o.sparsities) {
          this.checkAborted();
          const t0 = performance.now();
          const { pruned, points } = await this.pruned(from, settings, false, fromSparsity, sparsity);
          from = pruned;
          fromSparsity = sparsity;
          const pruneStep = {
            stage: 'prune' as const,
            model: { kind: 'float' as const, model: pruned },
            points: [...prior.flatMap((p) => p.points), ...points],
            seconds: prior.reduce((sum, p) => sum + p.seconds, 0) + (performance.now() - t0) / 1000,
            settings: this.pruneSettings(settings, sparsity),
          };
          prior = [pruneStep];
          const prunedBase = { ...base, pruning: o.pruneMethod, sparsity };
          measure({ kind: 'float', model: pruned }, prunedBase, [...steps, pruneStep]);
          if (stages.has('quantize')) {
            const t1 = performance.now();
            const q = this.quantized(pruned);
            measure({ kind: 'quantized', model: q }, { ...prunedBase, format: o.scheme }, [
              ...steps,
              pruneStep,
              {
                stage: 'quantize',
                model: { kind: 'quantized', model: q },
                points: [],
                seconds: (performance.now() - t1) / 1000,
                settings: this.quantizeSettings(),
              },
            ]);
          }
        }
      }
    };
    const reference = testAccuracy({ kind: 'float', model: searched }, this.validation);
    const base = { distilled: false, pruning: 'none' as const, sparsity: 0, format: 'f32' };
    await variants(searched, { ...base, widths: settings.layers.slice() }, []);
    if (stages.has('distill')) {
      const options = o.studentWidths
        ? [o.studentWidths]
        : [2, 4, 8].map((f) => settings.layers.map((w) => Math.max(8, Math.round(w / f))));
      const seen = new Set<string>();
      for (const widths of options) {
        if (seen.has(widths.join('-'))) continue;
        seen.add(widths.join('-'));
        this.checkAborted();
        const t0 = performance.now();
        const { student, points } = await this.distilled(searched.inputs, teacher, settings, widths, false);
        const step = {
          stage: 'distill' as const,
          model: { kind: 'float' as const, model: student },
          points,
          seconds: (performance.now() - t0) / 1000,
          settings: this.distillSettings(widths, settings),
        };
        await variants(student, { ...base, distilled: true, widths }, [step]);
      }
    }
    const candidates = paths.map((p) => p.candidate);
    const chosen = selectWithinBudget(candidates, reference, maxDrop, o.optimizeFor);
    // The searched model itself (index 0) has no drop, so something is always within budget.
    for (const step of paths[chosen]!.steps) {
      this.emit({ type: 'stage-start', stage: step.stage });
      this.finish(step.stage, step.model, performance.now() - step.seconds * 1000, step.points, step.settings);
    }
    return {
      maxDrop,
      optimizeFor: o.optimizeFor,
      reference,
      line: reference - maxDrop,
      candidates,
      front: paretoFront(candidates),
      chosen,
    };
  }

  /** Measures a finished stage on the test rows, adds its row and curve, and reports it. */
  finish(stage: RowStage, m: StageModel, t0: number, points: CurvePoint[], settings: object): void {
    const seconds = (performance.now() - t0) / 1000;
    const run = this.own(predictor(m));
    this.#predictors.push(run.predict);
    // Provisional, for the live table: this stage against the first one; remeasureLatency times
    // every stage together once all have run.
    const [us, referenceUs] = latenciesUs([run.predict, this.#predictors[0]!], this.test, this.o.latencyRepeats);
    const file = stageFile(m);
    const row: StageRow = {
      stage,
      model: describe(m),
      accuracy: testAccuracy(m, this.test),
      parameters: m.model.parameterCount,
      nonZeros: stageNonZeros(m),
      bytes: file.bytes.length,
      latencyUs: us!,
      speedup: this.rows.length === 0 ? 1 : referenceUs! / us!,
      seconds,
    };
    this.rows.push(row);
    if (points.length > 0) this.curves.push({ stage, points });
    this.#lastFile = file;
    this.#lastModel = m;
    this.stageSettings.push({ stage, settings: settingsRecord(settings) });
    this.emit({ type: 'stage-end', stage, row: { ...row } });
  }

  /** Batch-1 latency of every stage, all timed in the same rounds, into the rows. */
  remeasureLatency(): void {
    const us = latenciesUs(this.#predictors, this.test, this.o.latencyRepeats);
    this.rows.forEach((row, i) => {
      row.latencyUs = us[i]!;
      row.speedup = us[0]! / us[i]!;
    });
    this.emit({ type: 'latency', stages: this.rows.map((r) => ({ ...r })) });
  }

  dispose(): void {
    for (const x of this.#owned.reverse()) x.dispose();
    this.#owned = [];
  }
}

function curvePoint(epoch: number, log: EpochLog): CurvePoint {
  return {
    epoch,
    loss: log.loss,
    ...(log.valLoss !== undefined ? { valLoss: log.valLoss } : {}),
    ...(log.valAccuracy !== undefined ? { valAccuracy: log.valAccuracy } : {}),
  };
}

/** "784-32-10 f32", "784-32-10 f32, 90% of weights zero", "784-32-10 int8-per-channel". */
function describe(m: StageModel): string {
  // '784-128-10'; a CNN's input shape and filters: '1x28x28-conv16-conv32-128-10'.
  const inputs = m.model.inputShape.length > 1 ? m.model.inputShape.join('x') : m.model.inputs;
  if (m.kind === 'quantized')
    return `${[inputs, ...m.model.layers.map((l) => (l.conv ? `conv${l.units}` : String(l.units)))].join('-')} ${m.model.scheme}`;
  const widths = m.model.layers.flatMap((l) => (l.type === 'dense' ? [String(l.units)] : l.type === 'conv2d' ? [`conv${l.filters}`] : []));
  const shape = [inputs, ...widths].join('-');
  if (!m.model.pruningMask) return `${shape} f32`;
  const zero = 1 - stageNonZeros(m) / m.model.parameterCount;
  return `${shape} f32, ${Math.round(zero * 100)}% zero`;
}

function trialSummary(t: FrozenTrial): TrialSummary {
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    number: t.number,
    state: t.state,
    params: t.params,
    values: t.values,
    intermediate: Object.entries(t.intermediate)
      .map(([step, v]) => [Number(step), v] as [number, number])
      .sort((a, b) => a[0] - b[0]),
    accuracy: num(t.userAttrs.accuracy),
    parameters: num(t.userAttrs.parameters),
    bytes: num(t.userAttrs.bytes),
    startedAt: t.startedAt,
    durationMs: t.durationMs,
  };
}

// Importances need a few complete trials whose parameters vary; without them there is nothing to say.
function importancesOf(found: SearchModelResult): Record<string, number> | null {
  try {
    return found.study.importances({ seed: found.study.seed });
  } catch {
    return null;
  }
}

/** A sampler or pruner as the settings list names it: its name, or its class for an object. */
function componentName(c: string | object): string {
  return typeof c === 'string' ? c : (c.constructor?.name ?? 'custom');
}
