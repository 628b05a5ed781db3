// kiln export: a kiln model file (float, pruned or quantized) as an ONNX file that ONNX Runtime runs.
import type { Command } from 'commander';
import { exportOnnx, writeFileAtomic } from '../../index.ts';
import { usageError } from '../errors.ts';
import { architecture, isQuantized, readModel } from '../model.ts';
import { choice, commonOptions, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, out } from '../print.ts';

interface ExportOptions extends CommonOptions {
  format: 'onnx';
  inputName: string;
  outputName: string;
}

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('write a model as ONNX (float at opset 13, int8 as QDQ or dynamic MatMulInteger) for ONNX Runtime');
  commonOptions(cmd, ['model', 'out'], {
    model: 'the kiln model file to export (float, pruned or quantized)',
    out: 'ONNX file to write (atomically)',
  })
    .addOption(choice('--format <format>', 'file format to write', ['onnx']).default('onnx'))
    .option('--input-name <name>', 'name of the graph input [batch, features] (raw rows)', 'input')
    .option('--output-name <name>', 'name of the graph output [batch, outputs] (what predict returns)', 'output');
  cmd.addHelpText(
    'after',
    `
The graph takes raw rows: the model's standardisation is inside it. Its output is what kiln's
predict returns (probabilities, a sigmoid probability, or regression values).

Examples:
  kiln export --format onnx --model iris.safetensors --out iris.onnx
  kiln export --model iris-int8.safetensors --out iris-int8.onnx --json`,
  );
  cmd.action((o: ExportOptions) => exportCommand(o));
}

async function exportCommand(o: ExportOptions): Promise<void> {
  if (o.out === undefined) throw usageError('--out <file> is required');
  const loaded = await readModel(o.model);
  const bytes = exportOnnx(loaded.model, { inputName: o.inputName, outputName: o.outputName });
  await writeFileAtomic(o.out, bytes);
  if (o.json) {
    emitJson({
      command: 'export',
      format: o.format,
      model: loaded.path,
      architecture: architecture(loaded.model),
      storage: loaded.storage,
      bytes: bytes.length,
      modelBytes: loaded.bytes,
      out: o.out,
      inputName: o.inputName,
      outputName: o.outputName,
    });
    return;
  }
  out(`model       ${loaded.path}: ${architecture(loaded.model)}`);
  out(`weights     ${loaded.storage}`);
  out(
    `onnx        opset 13, input '${o.inputName}' [batch, ${loaded.model.inputs}], output '${o.outputName}' [batch, ${loaded.model.outputs}]`,
  );
  out(`file        ${bytesText(loaded.bytes)} → ${bytesText(bytes.length)}`);
  if (isQuantized(loaded.model) && loaded.model.dynamicRange === 'row') {
    out(`note        ONNX's DynamicQuantizeLinear has one range per call: run one row per call for kiln's per-row ranges`);
  }
  out(`saved       ${o.out}`);
}
