// kiln info: what a model file holds: architecture, parameters, sparsity, storage, preprocessing;
// and which core runs it (threaded or not, and why).
import type { Command } from 'commander';
import { coreInfo, type QuantizedModel, type Sequential } from '../../index.ts';
import { modelRows } from '../data.ts';
import { SCORED_ROWS } from './eval.ts';
import { architecture, classNamesOf, evaluateModel, featureNamesOf, isQuantized, readModel } from '../model.ts';
import { commonOptions, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, fmt, metricsJson, metricsLine, out, table, rowsJson } from '../print.ts';

export function registerInfo(program: Command): void {
  const cmd = program.command('info').description('architecture, parameter count, sparsity, storage and preprocessing of a model file');
  commonOptions(cmd, ['model', 'data', 'label', 'testSplit', 'test'], {
    data: "optional: also score the model on this data's seeded test part (as 'kiln eval' does)",
    testSplit: SCORED_ROWS,
    test: 'optional: also score the model on every row of this CSV file',
  });
  cmd.addHelpText(
    'after',
    `
Examples:
  kiln info --model iris.safetensors
  kiln info --model pruned.safetensors --json | jq .sparsity
  kiln info --model iris.safetensors --data iris`,
  );
  cmd.action((o: CommonOptions) => info(o));
}

interface TensorInfo {
  name: string;
  shape: number[];
  values: number;
  /** Values that are exactly zero (quantized: codes equal to their zero point). */
  zeros: number;
  /** Quantized weights: bits per code and how many scales. */
  bits?: number;
  scales?: number;
}

async function info(o: CommonOptions): Promise<void> {
  const loaded = await readModel(o.model);
  const { model } = loaded;
  const tensors = isQuantized(model) ? quantizedTensors(model) : floatTensors(model);
  const weights = tensors.filter((t) => t.name.endsWith('.weight'));
  const weightCount = weights.reduce((a, t) => a + t.values, 0);
  const zeroWeights = weights.reduce((a, t) => a + t.zeros, 0);
  const sparsity = weightCount === 0 ? 0 : zeroWeights / weightCount;
  const scored = o.data !== undefined || o.test !== undefined ? await modelRows(o, model, false, false) : undefined;
  const evaluation = scored ? evaluateModel(model, scored.data) : undefined;
  const featureNames = featureNamesOf(model),
    classNames = classNamesOf(model);
  const standardize = isQuantized(model)
    ? model.standardize !== undefined
    : model.preprocessing.mean !== undefined && model.preprocessing.std !== undefined;
  const quantization = isQuantized(model) ? model.info() : null;
  const encoder = isQuantized(model) || !model.preprocessing.table ? undefined : model.preprocessing.table;
  if (o.json) {
    emitJson({
      command: 'info',
      path: loaded.path,
      format: loaded.format,
      storage: loaded.storage,
      bytes: loaded.bytes,
      task: model.task,
      architecture: architecture(model),
      ...(isQuantized(model) ? {} : { config: model.toConfig(), layers: model.summary() }),
      parameters: model.parameterCount,
      sparsity,
      zeroWeights,
      weights: weightCount,
      tensors,
      quantization,
      preprocessing: { standardize, featureNames: featureNames ?? null, classNames: classNames ?? null, table: encoder ?? null },
      metrics: evaluation ? metricsJson(evaluation, model) : null,
      ...(scored ? { data: scored.source, rows: rowsJson(undefined, undefined, scored.data) } : {}),
      core: coreInfo(),
    });
    return;
  }
  out(`file           ${loaded.path} (${bytesText(loaded.bytes)}, ${loaded.bytes} bytes)`);
  out(`format         ${loaded.format}, weights ${loaded.storage}`);
  out(`model          ${architecture(model)}`);
  out(`parameters     ${model.parameterCount}`);
  if (quantization)
    out(
      `quantized      ${bytesText(quantization.bytes)} of parameters, ${fmt(quantization.compression, 2)}x smaller than float32 (${bytesText(quantization.float32Bytes)})`,
    );
  out(`sparsity       ${fmt(sparsity * 100, 2)}% of weights are exactly zero (${zeroWeights} of ${weightCount})`);
  out(`preprocessing  ${standardize ? 'standardize (mean / std per feature)' : 'none'}`);
  if (encoder) {
    out(
      `columns        ${list(encoder.columns.map((c) => `${c.name} (${c.kind})`))}${encoder.label.length ? `; label ${encoder.label.join(', ')}` : ''}`,
    );
    if (encoder.ignored.length > 0) out(`ignored        ${list(encoder.ignored.map((c) => `${c.name} (${c.reason})`))}`);
  }
  if (featureNames) out(`features       ${list(featureNames)}`);
  if (classNames) out(`classes        ${list(classNames)}`);
  if (evaluation && scored) out(`metrics        ${metricsLine(evaluation)} (${scored.data.numRows} rows of ${scored.source})`);
  out(`core           ${coreInfo().summary}`);
  out();
  if (!isQuantized(model)) {
    const layers = model.summary().map((l, i) => [String(i), l.name, `[${l.outputShape.join(', ')}]`, String(l.parameters)]);
    for (const line of table(['layer', 'kind', 'output shape', 'parameters'], layers)) out(line);
    out();
  }
  const header = quantization ? ['tensor', 'shape', 'values', 'zeros', 'bits', 'scales'] : ['tensor', 'shape', 'values', 'zeros'];
  const rows = tensors.map((t) => [
    t.name,
    `[${t.shape.join(', ')}]`,
    String(t.values),
    String(t.zeros),
    ...(quantization ? [t.bits === undefined ? '-' : String(t.bits), t.scales === undefined ? '-' : String(t.scales)] : []),
  ]);
  for (const line of table(header, rows)) out(line);
}

function floatTensors(model: Sequential): TensorInfo[] {
  return model.parameters().map(({ name, shape, data }) => ({ name, shape, values: data.length, zeros: zerosOf(data) }));
}

// A code stands for exactly zero when it equals its zero point (0 for symmetric weights). Zero
// points come one per tensor, per output row, or per group of input columns (int4).
function quantizedTensors(model: QuantizedModel): TensorInfo[] {
  const bits = model.scheme === 'int4' ? 4 : 8;
  return model.layers.flatMap((l, j) => {
    const perRow = l.scales.length / l.units;
    const group = model.groupSize ?? l.inputs;
    let zeros = 0;
    for (let r = 0; r < l.units; r++) {
      for (let c = 0; c < l.inputs; c++) {
        const zp =
          l.zeroPoints === undefined ? 0 : l.scales.length === 1 ? l.zeroPoints[0]! : l.zeroPoints[r * perRow + Math.floor(c / group)]!;
        if (l.codes[r * l.inputs + c] === zp) zeros++;
      }
    }
    return [
      { name: `layers.${j}.weight`, shape: [l.units, l.inputs], values: l.units * l.inputs, zeros, bits, scales: l.scales.length },
      { name: `layers.${j}.bias`, shape: [l.units], values: l.units, zeros: zerosOf(l.bias) },
    ];
  });
}

function zerosOf(data: ArrayLike<number>): number {
  let zeros = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
  return zeros;
}

const list = (names: readonly string[]): string =>
  names.length <= 12 ? names.join(', ') : `${names.slice(0, 6).join(', ')}, … (${names.length} in all)`;
