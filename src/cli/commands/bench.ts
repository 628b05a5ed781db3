// kiln bench: how fast a given model runs on this machine: batch-1 and batch-64 inference
// latency, and training throughput (one epoch of batch-64 updates on a copy of the model).
import type { Command } from 'commander';
import {
  batchOf,
  Dataset,
  fit,
  modelFromBytes,
  modelToBytes,
  quantile,
  Rng,
  scope,
  Tensor,
  timeCalls,
  trainTestSplit,
  type Sequential,
  type Timing,
} from '../../index.ts';
import { modelRows } from '../data.ts';
import { architecture, evaluateModel, isQuantized, readModel, type Model } from '../model.ts';
import { commonOptions, integer, type CommonOptions } from '../options.ts';
import { emitJson, fmt, metricsJson, metricsLine, out, table } from '../print.ts';
import { progressBar } from '../progress.ts';

interface BenchOptions extends CommonOptions {
  repeat: number;
  trainRows: number;
  rounds: number;
}

const TRAIN_BATCH = 64;

export function registerBench(program: Command): void {
  const cmd = program
    .command('bench')
    .description("measure a model's inference latency (batch 1 and 64) and training throughput on this machine");
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'model'], {
    data: "rows to run on (default: seeded random rows of the model's shape); with labels, the test-split metrics are reported too",
  })
    .option(
      '--repeat <n>',
      'timed samples per batch size (each sample times enough calls to last 1 ms, after a warm-up)',
      integer(1, 1e7),
      200,
    )
    .option('--train-rows <n>', 'rows per timed training epoch', integer(TRAIN_BATCH, 1e7), 2048)
    .option('--rounds <n>', 'timed training epochs (the median is reported)', integer(1, 1000), 3);
  cmd.addHelpText(
    'after',
    `
Latencies are medians per call of wall-clock samples in this process (single thread), timed as
the pipeline and compressionReport time them (timeCalls). Training runs on a
copy of the model; the file is never changed. Quantized models are timed for inference only.

Examples:
  kiln bench --model iris.safetensors
  kiln bench --model mnist.safetensors --data mnist --repeat 500 --json`,
  );
  cmd.action((o: BenchOptions) => bench(o));
}

interface Latency {
  batch: number;
  medianMs: number;
  p90Ms: number;
  rowsPerSecond: number;
}

async function bench(o: BenchOptions): Promise<void> {
  const loaded = await readModel(o.model);
  const { model } = loaded;
  const given = o.data !== undefined || o.test !== undefined ? await modelRows(o, model, true, true) : undefined;
  const labelled = given?.labeled ? given.data : undefined;
  const parts =
    labelled && o.test === undefined && o.testSplit > 0 && o.testSplit < 1
      ? trainTestSplit(labelled, { testFraction: o.testSplit, seed: o.seed })
      : undefined;
  const metrics = labelled ? evaluateModel(model, parts?.test ?? labelled) : undefined;
  // Rows without labels can be predicted but not trained on: training then uses random rows.
  const random = given && labelled ? undefined : randomRows(model, o.trainRows, o.seed);

  const trains = !isQuantized(model);
  const bar = progressBar(trains ? 3 : 2, 'benchmarking', o.json);
  const latency: Latency[] = [];
  for (const batch of [1, 64]) {
    latency.push(timePredict(model, given?.data ?? random!, batch, o.repeat));
    bar.update(latency.length);
  }
  // A quantized model has no float weights to train.
  const training = trains ? await timeTraining(model, cycle(parts?.train ?? labelled ?? random!, o.trainRows), o.rounds, o.seed) : null;
  bar.update(latency.length + (training ? 1 : 0));
  bar.stop();

  if (o.json) {
    emitJson({
      command: 'bench',
      architecture: architecture(model),
      parameters: model.parameterCount,
      bytes: loaded.bytes,
      data: given?.source ?? 'random',
      metrics: metrics ? metricsJson(metrics, model) : null,
      latency,
      training,
    });
    return;
  }
  out(`model       ${loaded.path}: ${architecture(model)}, ${model.parameterCount} parameters`);
  out(`data        ${given?.source ?? `random rows (seed ${o.seed})`}`);
  if (metrics) out(`metrics     ${metricsLine(metrics)}`);
  out();
  for (const line of table(
    ['measure', 'median', 'p90', 'rows/s'],
    [
      ...latency.map((l) => [
        `predict, batch ${l.batch}`,
        `${fmt(l.medianMs * 1000, 1)} µs`,
        `${fmt(l.p90Ms * 1000, 1)} µs`,
        fmt(l.rowsPerSecond, 0),
      ]),
      ...(training
        ? [
            [
              `train, batch ${TRAIN_BATCH} (${training.rowsPerRound} rows)`,
              `${fmt(training.medianMs, 1)} ms`,
              '-',
              fmt(training.samplesPerSecond, 0),
            ],
          ]
        : []),
    ],
  ))
    out(line);
}

function timePredict(model: Model, rows: Dataset, batch: number, repeat: number): Latency {
  const [{ medianMs, p90Ms }] = timeCalls([(x) => model.predict(x)], batchOf(rows, batch), repeat) as [Timing];
  return { batch, medianMs, p90Ms, rowsPerSecond: (batch * 1000) / medianMs };
}

async function timeTraining(model: Sequential, rows: Dataset, rounds: number, seed: number) {
  const copy = modelFromBytes(modelToBytes(model));
  try {
    const times = new Float64Array(rounds);
    // One untimed epoch first: the first run pays for growing memory and compiling hot paths.
    for (let r = -1; r < rounds; r++) {
      const t0 = performance.now();
      await fit(copy, rows, { epochs: 1, batchSize: TRAIN_BATCH, seed, standardize: false });
      if (r >= 0) times[r] = performance.now() - t0;
    }
    const medianMs = quantile(times, 0.5);
    return { batchSize: TRAIN_BATCH, rowsPerRound: rows.numRows, rounds, medianMs, samplesPerSecond: (rows.numRows * 1000) / medianMs };
  } finally {
    copy.dispose();
  }
}

/** `n` rows taken from `rows` in order, wrapping around. */
function cycle(rows: Dataset, n: number): Dataset {
  return rows.subset(Int32Array.from({ length: n }, (_, i) => i % rows.numRows));
}

/** Seeded rows shaped for the model: standard normal features, random classes or targets. */
function randomRows(model: Model, n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  try {
    const features = scope(() => rng.normal(Tensor.zeros([n * model.inputs])).read());
    const u = rng.uniform64(n * model.outputs);
    if (model.task === 'regression')
      return new Dataset({ features, numFeatures: model.inputs, targets: Float32Array.from(u), numTargets: model.outputs });
    const classes = model.task === 'binary' ? 2 : model.outputs;
    return new Dataset({
      features,
      numFeatures: model.inputs,
      labels: Int32Array.from({ length: n }, (_, i) => Math.floor(u[i]! * classes)),
    });
  } finally {
    rng.dispose();
  }
}
