// kiln info: what a model file holds: architecture, parameters, sparsity, storage, preprocessing.
import type { Command } from 'commander';
import { evaluate, type Sequential } from '../../index.ts';
import { modelRows } from '../data.ts';
import { SCORED_ROWS } from './eval.ts';
import { architecture, readModel } from '../model.ts';
import { commonOptions, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, fmt, metricsJson, metricsLine, out, table } from '../print.ts';

export function registerInfo(program: Command): void {
  const cmd = program.command('info').description('architecture, parameter count, sparsity, storage and preprocessing of a model file');
  commonOptions(cmd, ['model', 'data', 'label', 'testSplit', 'test'], {
    data: "optional: also score the model on this data's seeded test part (as 'kiln eval' does)",
    testSplit: SCORED_ROWS,
    test: 'optional: also score the model on every row of this CSV file',
  });
  cmd.addHelpText('after', `
Examples:
  kiln info --model iris.safetensors
  kiln info --model pruned.safetensors --json | jq .sparsity
  kiln info --model iris.safetensors --data iris`);
  cmd.action((o: CommonOptions) => info(o));
}

interface TensorInfo {
  name: string;
  shape: number[];
  values: number;
  zeros: number;
}

async function info(o: CommonOptions): Promise<void> {
  const loaded = await readModel(o.model);
  const { model } = loaded;
  const tensors = tensorInfo(model);
  const weights = tensors.filter((t) => t.name.endsWith('.weight'));
  const weightCount = weights.reduce((a, t) => a + t.values, 0);
  const zeroWeights = weights.reduce((a, t) => a + t.zeros, 0);
  const sparsity = weightCount === 0 ? 0 : zeroWeights / weightCount;
  const scored = o.data !== undefined || o.test !== undefined ? await modelRows(o, model, false, false) : undefined;
  const evaluation = scored ? evaluate(model, scored.data) : undefined;
  const p = model.preprocessing;
  const preprocessing = {
    standardize: p.mean !== undefined && p.std !== undefined,
    featureNames: p.featureNames ?? null,
    classNames: p.classNames ?? null,
  };
  if (o.json) {
    emitJson({
      command: 'info', path: loaded.path, format: loaded.format, storage: loaded.storage, bytes: loaded.bytes,
      task: model.task, architecture: architecture(model), config: model.toConfig(), parameters: model.parameterCount,
      sparsity, zeroWeights, weights: weightCount, tensors, preprocessing,
      metrics: evaluation ? metricsJson(evaluation) : null, ...(scored ? { data: scored.source, rows: scored.data.numRows } : {}),
    });
    return;
  }
  out(`file           ${loaded.path} (${bytesText(loaded.bytes)}, ${loaded.bytes} bytes)`);
  out(`format         ${loaded.format}, weights ${loaded.storage}`);
  out(`model          ${architecture(model)}`);
  out(`parameters     ${model.parameterCount}`);
  out(`sparsity       ${fmt(sparsity * 100, 2)}% of weights are exactly zero (${zeroWeights} of ${weightCount})`);
  out(`preprocessing  ${preprocessing.standardize ? 'standardize (mean / std per feature)' : 'none'}`);
  if (p.featureNames) out(`features       ${list(p.featureNames)}`);
  if (p.classNames) out(`classes        ${list(p.classNames)}`);
  if (evaluation && scored) out(`metrics        ${metricsLine(evaluation)} (${scored.data.numRows} rows of ${scored.source})`);
  out();
  for (const line of table(['tensor', 'shape', 'values', 'zeros'], tensors.map((t) => [t.name, `[${t.shape.join(', ')}]`, String(t.values), String(t.zeros)]))) out(line);
}

function tensorInfo(model: Sequential): TensorInfo[] {
  return model.parameters().map(({ name, shape, data }) => {
    let zeros = 0;
    for (const v of data) if (v === 0) zeros++;
    return { name, shape, values: data.length, zeros };
  });
}

const list = (names: readonly string[]): string => (names.length <= 12 ? names.join(', ') : `${names.slice(0, 6).join(', ')}, … (${names.length} in all)`);
