// kiln import: an ONNX file of a feed-forward network (PyTorch, Keras, scikit-learn converters…)
// as a kiln model file, to distil from, prune, quantize or train further.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { importOnnx, type ModelTask, type Sequential } from '../../index.ts';
import { CliError, usageError } from '../errors.ts';
import { architecture, writeModel } from '../model.ts';
import { choice, commonOptions, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, out } from '../print.ts';

interface ImportOptions extends CommonOptions {
  task?: ModelTask;
}

export function registerImport(program: Command): void {
  const cmd = program.command('import').description('read an ONNX model of a dense network into a kiln model file');
  commonOptions(cmd, ['model', 'out'], { model: 'the ONNX file to import', out: 'kiln model file to write (atomically)' }).addOption(
    choice(
      '--task <task>',
      'for a graph that ends in raw scores: classification adds softmax, binary a sigmoid (default: read from the graph)',
      ['classification', 'binary', 'regression'],
    ),
  );
  cmd.addHelpText(
    'after',
    `
Reads Gemm, MatMul (+ Add), Relu, LeakyRelu, Sigmoid, Tanh, GELU (the Gelu op or its Erf form),
Softmax, Identity, Dropout, Flatten and Reshape, and Mul/Add/Sub/Div standardisation before the
first layer; anything else is refused naming the node. Commands that take --model also read .onnx
files directly.

Examples:
  kiln import --model classifier.onnx --task classification --out teacher.safetensors
  kiln distill --model teacher.safetensors --data train.csv --layers 16 --out student.safetensors`,
  );
  cmd.action((o: ImportOptions) => importCommand(o));
}

async function importCommand(o: ImportOptions): Promise<void> {
  if (o.model === undefined) throw usageError('--model <file.onnx> is required');
  const bytes = new Uint8Array(await readFile(o.model));
  let model: Sequential;
  try {
    model = importOnnx(bytes, o.task === undefined ? {} : { task: o.task });
  } catch (error) {
    throw new CliError(`${o.model}: ${(error as Error).message}`);
  }
  const written = o.out === undefined ? undefined : await writeModel(model, o.out);
  if (o.json) {
    emitJson({
      command: 'import',
      model: o.model,
      architecture: architecture(model),
      config: model.toConfig(),
      parameters: model.parameterCount,
      bytes: bytes.length,
      out: o.out ?? null,
      outBytes: written ?? null,
    });
    return;
  }
  out(`onnx        ${o.model}: ${bytesText(bytes.length)}`);
  out(`model       ${architecture(model)}, ${model.parameterCount} parameters`);
  out(o.out === undefined ? `not saved   (give --out <file> to keep it)` : `saved       ${o.out} (${bytesText(written!)})`);
}
