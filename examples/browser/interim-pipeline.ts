// Stand-in for runPipeline while src/pipeline/pipeline.ts is being written: a few trials of fit
// over hidden widths, then the best retrained, emitting the pipeline's own event shapes.
import { adam, dense, evaluate, fit, modelToBytes, Sequential, trainTestSplit, type Dataset } from '../../src/index.ts';
import type { PipelineOptions } from '../../src/pipeline/options.ts';
import type { PipelineHooks, PipelineResult, StageRow, TrialSummary } from '../../src/pipeline/types.ts';

const WIDTHS = [16, 32, 64, 128, 24, 48, 96];

export async function runPipeline(data: Dataset, options: PipelineOptions, hooks: PipelineHooks = {}): Promise<PipelineResult> {
  const emit = hooks.onEvent ?? (() => {});
  const seed = options.seed ?? 0;
  const epochs = options.search?.epochs ?? 5;
  const started = performance.now();
  const { train, validation, test } = trainTestSplit(data, { testFraction: 0.2, validationFraction: 0.1, seed });
  const rows = { train: train.numRows, validation: validation!.numRows, test: test.numRows };
  emit({ type: 'start', stages: ['search'], rows, features: data.numFeatures, classes: data.classNames.length });
  emit({ type: 'stage-start', stage: 'search' });
  const trials: TrialSummary[] = [];
  let best: { trial: number; accuracy: number; model: Sequential; logs: { epoch: number; loss: number; valAccuracy?: number }[] } | undefined;
  for (let t = 0; t < (options.budget?.trials ?? 3); t++) {
    const model = new Sequential({ inputs: data.numFeatures, layers: [dense(WIDTHS[t % WIDTHS.length]!, 'relu'), dense(data.classNames.length)], seed: seed + t });
    const history = await fit(model, train, {
      optimizer: adam({ lr: 3e-3 }), epochs, batchSize: 32, validation, signal: hooks.signal,
      onEpoch: (e) => emit({ type: 'trial-epoch', trial: t, epoch: e.epoch, loss: e.loss, valLoss: e.valLoss!, valAccuracy: e.valAccuracy! }),
    });
    const accuracy = history.epochs.at(-1)!.valAccuracy!;
    if (!best || accuracy > best.accuracy) {
      best?.model.dispose();
      best = { trial: t, accuracy, model, logs: history.epochs };
    } else model.dispose();
    const summary: TrialSummary = { number: t, state: 'complete', params: { units: WIDTHS[t % WIDTHS.length]! }, values: [accuracy], intermediate: [], accuracy, parameters: model.parameterCount, bytes: null, durationMs: null };
    trials.push(summary);
    emit({ type: 'trial', trial: summary, bestTrial: best.trial });
  }
  for (const point of best!.logs) emit({ type: 'epoch', stage: 'search', point });
  const evaluation = evaluate(best!.model, test);
  const bytes = modelToBytes(best!.model);
  const row: StageRow = {
    stage: 'search', model: `${data.numFeatures}-${best!.model.toConfig().layers.map((l) => ('units' in l ? l.units : '')).join('-')} f32`,
    accuracy: evaluation.task === 'classification' ? evaluation.accuracy : NaN, parameters: best!.model.parameterCount, nonZeros: best!.model.parameterCount,
    bytes: bytes.length, latencyUs: NaN, speedup: 1, seconds: (performance.now() - started) / 1000,
  };
  emit({ type: 'stage-end', stage: 'search', row });
  best!.model.dispose();
  const seconds = (performance.now() - started) / 1000;
  emit({ type: 'end', seconds });
  return { stages: [row], trials, model: { stage: 'search', format: 'kiln.sequential', bytes }, seconds } as unknown as PipelineResult;
}
