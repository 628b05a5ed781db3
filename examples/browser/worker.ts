// The demo's worker: its own kiln core (await init()), the data, and runPipeline, whose events
// become the page's few message kinds (protocol.ts). Training here keeps the page responsive.
import {
  init,
  mnist,
  parseCsv,
  renderReport,
  runPipeline,
  type Dataset,
  type PipelineEvent,
  type PipelineOptions,
  type PipelineResult,
  type RowStage,
  type StageRow,
} from '../../src/index.ts';
import { trainDigitModels, type DigitModels } from './digit-models.ts';
import type { Budget, DataChoice, DigitBudget, FromWorker, OutputFile, Table, ToWorker } from './protocol.ts';

interface Port {
  postMessage(message: FromWorker): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<ToWorker>) => void): void;
}
const port = self as unknown as Port;
// One core per worker, loaded on the first run (the page starts a fresh worker for each run, and
// one for the digit pad's models).
let ready: Promise<void> | undefined;
let controller: AbortController | undefined;
let digits: DigitModels | undefined;

port.addEventListener('message', ({ data: m }) => {
  switch (m.type) {
    case 'stop':
      controller?.abort();
      break;
    case 'run':
      void run(m.data, m.budget);
      break;
    case 'train-digits':
      void trainDigits(m.budget);
      break;
    case 'predict':
      predictDigit(m.pixels);
      break;
  }
});

const digitSource = () => new URL('/digits/', location.origin);

async function trainDigits(budget: DigitBudget): Promise<void> {
  controller = new AbortController();
  try {
    await (ready ??= init());
    const started = performance.now();
    digits?.dispose();
    digits = await trainDigitModels(budget, digitSource(), (text) => port.postMessage({ type: 'digit-status', text }), controller.signal);
    port.postMessage({ type: 'digit-model', stages: digits.stages, seconds: (performance.now() - started) / 1000 });
  } catch (error) {
    port.postMessage({ type: 'digit-error', message: errorText(error) });
  }
}

/** Every stage's class probabilities for one drawn digit. */
function predictDigit(pixels: Float32Array): void {
  if (!digits) return;
  port.postMessage({ type: 'prediction', probabilities: digits.predictors.map((p) => Array.from(p.predict(pixels))) });
}

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);

const STAGE_TEXT: Record<RowStage, string> = {
  search: 'Searching architectures and training settings',
  train: 'Training',
  distill: 'Distilling into a smaller student',
  prune: 'Pruning neurons and fine-tuning',
  quantize: 'Quantising to integers',
};

async function load(choice: DataChoice): Promise<Dataset> {
  if (choice.kind === 'mnist') return mnist({ source: digitSource(), perDigit: choice.perDigit });
  return parseCsv(choice.text, choice.label === undefined ? {} : { label: choice.label });
}

function options(budget: Budget): PipelineOptions {
  const epochs = budget.epochs;
  return {
    seed: budget.seed,
    search: { trials: budget.trials, epochs },
    distill: { epochs },
    prune: { fineTuneEpochs: Math.ceil(epochs / 2) },
  };
}

/** Turns pipeline events into page messages. Trial values are kept to report the best so far,
 *  and trial curves so that the search stage's curve, its chosen trial's, can be drawn when the
 *  stage ends (the pipeline keeps that trial's model rather than training it again). */
function relay(objective: string): (e: PipelineEvent) => void {
  const values = new Map<number, number>();
  const curves = new Map<number, Extract<FromWorker, { type: 'epoch' }>[]>();
  let bestTrial: number | null = null;
  return (e) => {
    switch (e.type) {
      case 'start':
        port.postMessage({
          type: 'status',
          text: `${e.rows.train} training, ${e.rows.validation} validation and ${e.rows.test} test rows; ${e.features} features, ${e.classes} classes.`,
        });
        break;
      case 'stage-start':
        port.postMessage({ type: 'status', text: `${STAGE_TEXT[e.stage]}…` });
        break;
      case 'trial-epoch': {
        const m = {
          type: 'epoch',
          series: `trial ${e.trial}`,
          trial: true,
          epoch: e.epoch,
          loss: e.loss,
          accuracy: e.valAccuracy,
        } as const;
        if (!curves.has(e.trial)) curves.set(e.trial, []);
        curves.get(e.trial)!.push(m);
        port.postMessage(m);
        break;
      }
      case 'trial': {
        const value = e.trial.values?.[0];
        if (e.trial.state === 'complete' && value !== undefined) values.set(e.trial.number, value);
        bestTrial = e.bestTrial;
        const best = bestTrial === null ? undefined : values.get(bestTrial);
        port.postMessage({ type: 'trial', number: e.trial.number, value, pruned: e.trial.state === 'pruned', best, objective });
        break;
      }
      case 'epoch':
        port.postMessage({
          type: 'epoch',
          series: e.stage,
          trial: false,
          epoch: e.point.epoch,
          loss: e.point.loss,
          accuracy: e.point.valAccuracy,
        });
        break;
      case 'stage-end':
        if (e.stage === 'search' && bestTrial !== null) {
          for (const m of curves.get(bestTrial) ?? []) port.postMessage({ ...m, series: 'search', trial: false });
        }
        port.postMessage({ type: 'status', text: `${e.stage}: test accuracy ${percent(e.row.accuracy)}, ${kib(e.row.bytes)}.` });
        break;
      case 'end':
        break;
    }
  };
}

const dash = (v: number, text: (v: number) => string) => (Number.isFinite(v) ? text(v) : '—');
const percent = (v: number) => dash(v, (x) => `${(100 * x).toFixed(1)}%`);
const kib = (v: number) => dash(v, (x) => `${(x / 1024).toFixed(1)} KiB`);

function stageTable(rows: StageRow[]): Table {
  return {
    columns: ['stage', 'model', 'test accuracy', 'parameters', 'non-zeros', 'file', 'latency (batch 1)', 'speedup', 'time'],
    rows: rows.map((r) => [
      r.stage,
      r.model,
      percent(r.accuracy),
      r.parameters.toLocaleString('en'),
      r.nonZeros.toLocaleString('en'),
      kib(r.bytes),
      dash(r.latencyUs, (x) => `${x.toFixed(1)} µs`),
      dash(r.speedup, (x) => `${x.toFixed(2)}×`),
      `${r.seconds.toFixed(1)} s`,
    ]),
  };
}

function files(result: PipelineResult): OutputFile[] {
  return [
    { name: `kiln-${result.model.stage}.safetensors`, type: 'application/octet-stream', bytes: result.model.bytes },
    {
      name: 'kiln-report.html',
      type: 'text/html',
      bytes: new TextEncoder().encode(renderReport(result, { title: 'kiln pipeline report (browser demo)' })),
    },
  ];
}

async function run(data: DataChoice, budget: Budget): Promise<void> {
  controller = new AbortController();
  const { signal } = controller;
  try {
    await (ready ??= init());
    port.postMessage({ type: 'status', text: data.kind === 'mnist' ? 'Loading MNIST digits…' : `Reading ${data.name}…` });
    const dataset = await load(data);
    const result = await runPipeline(dataset, options(budget), { onEvent: relay('validation accuracy'), signal });
    port.postMessage({ type: 'done', table: stageTable(result.stages), files: files(result), seconds: result.seconds });
  } catch (error) {
    port.postMessage({ type: 'error', message: errorText(error), stopped: signal.aborted });
  }
}
