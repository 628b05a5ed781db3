// kiln quantize: int8 or int4 weights (and int8 activations) after training, or through
// quantization-aware training; compares the float and quantized models on the held-out rows.
import type { Command } from 'commander';
import {
  CALIBRATION_METHODS,
  fit,
  foldBatchNorm,
  prepareQat,
  quantize,
  QUANT_SCHEMES,
  type CalibrationMethod,
  type QuantizedModel,
  type QuantScheme,
} from '../../index.ts';
import { trainingDataFor } from '../data.ts';
import { CliError, usageError } from '../errors.ts';
import { architecture, evaluateModel, modelBytes, readFloatModel, writeModel } from '../model.ts';
import { choice, commonOptions, givenFlag, integer, number, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, fmt, metricsJson, metricsLine, out, rowsJson } from '../print.ts';
import {
  earlyStoppingFrom,
  optimizerFrom,
  TRAINING_KEYS,
  trainingOptions,
  withEpochProgress,
  type TrainingFlags,
} from '../training-flags.ts';

interface QuantizeOptions extends CommonOptions, TrainingFlags {
  scheme: QuantScheme;
  calibration?: CalibrationMethod;
  percentile?: number;
  groupSize?: number;
  asymmetric?: boolean;
  dynamicRange?: 'batch' | 'row';
  qat?: boolean;
}

const STATIC: readonly QuantScheme[] = ['int8-per-tensor', 'int8-per-channel'];

export function registerQuantize(program: Command): void {
  const cmd = program
    .command('quantize')
    .description(
      'quantize a model to int8 or int4 (after training, or with quantization-aware training) and compare it with the float model',
    );
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'model', 'out'], {
    data: 'data to calibrate (and with --qat train) on, split as train splits it; the test part scores both models',
    model: 'the float model file to quantize',
    out: 'quantized model file to write (atomically)',
  })
    .addOption(
      choice(
        '--scheme <scheme>',
        'int8-per-tensor / int8-per-channel: int8 weights and calibrated int8 activations; int8-dynamic: activation ranges at run time; int4: 4-bit weight groups, float activations',
        QUANT_SCHEMES,
      ).default('int8-per-channel'),
    )
    .addOption(
      choice(
        '--calibration <method>',
        'static schemes: how activation ranges are chosen on the training rows (default minmax)',
        CALIBRATION_METHODS,
      ),
    )
    .option('--percentile <p>', 'percentile calibration: the percentile of |activations| kept (default 99.99)', number(0, 100))
    .option('--group-size <n>', 'int4: input columns per scale: 32, 64 or 128 (default 128)', integer(1))
    .option('--asymmetric', 'affine weights (a zero point per scale) instead of symmetric')
    .addOption(choice('--dynamic-range <per>', "int8-dynamic: one activation range per 'batch' (default) or per 'row'", ['batch', 'row']))
    .option(
      '--qat',
      'quantization-aware training: fine-tune with fake-quantized weights and activations, then convert (static int8 schemes)',
    );
  trainingOptions(cmd, { epochs: 3, epochsText: '--qat: training epochs' });
  cmd.addHelpText(
    'after',
    `
The training flags (--epochs, --lr, --optimizer, ...) apply with --qat only.

Examples:
  kiln quantize --model iris.safetensors --data iris --out iris-int8.safetensors
  kiln quantize --model mnist.safetensors --data mnist --scheme int8-per-tensor --calibration entropy --json
  kiln quantize --model mnist.safetensors --data mnist --scheme int4 --group-size 32 --out mnist-int4.safetensors
  kiln quantize --model mnist.safetensors --data mnist --qat --epochs 2 --lr 1e-4 --out mnist-qat.safetensors`,
  );
  cmd.action((o: QuantizeOptions) => quantizeCommand(cmd, o));
}

function checkFlags(cmd: Command, o: QuantizeOptions): void {
  const isStatic = STATIC.includes(o.scheme);
  if ((o.calibration !== undefined || o.percentile !== undefined) && !isStatic)
    throw usageError(`--calibration and --percentile apply to the static schemes (${STATIC.join(', ')}), not ${o.scheme}`);
  if (o.percentile !== undefined && o.calibration !== 'percentile') throw usageError('--percentile applies to --calibration percentile');
  if (o.groupSize !== undefined && o.scheme !== 'int4') throw usageError(`--group-size applies to --scheme int4, not ${o.scheme}`);
  if (o.dynamicRange !== undefined && o.scheme !== 'int8-dynamic')
    throw usageError(`--dynamic-range applies to --scheme int8-dynamic, not ${o.scheme}`);
  if (o.qat && !isStatic) throw usageError(`--qat makes a static int8 model (${STATIC.join(', ')}), not ${o.scheme}`);
  if (o.qat && o.calibration !== undefined) throw usageError('--qat learns activation ranges in training; it takes no --calibration');
  const training = givenFlag(cmd, TRAINING_KEYS);
  if (!o.qat && training) throw usageError(`${training} applies with --qat only`);
}

async function quantizeCommand(cmd: Command, o: QuantizeOptions): Promise<void> {
  checkFlags(cmd, o);
  const loaded = await readFloatModel(o.model, 'quantization');
  // Batch norms fold into the layer before them, as quantize() does, so QAT trains what runs.
  const float = o.qat && loaded.model.layers.some((l) => l.type === 'batchNorm') ? foldBatchNorm(loaded.model) : loaded.model;
  const table = float.preprocessing.table;
  if (table && table.columns.some((c) => c.kind !== 'numeric' || c.indicator)) {
    throw new CliError(
      `${loaded.path} reads categorical, text or gappy columns through its table encoder, which the quantized format does not keep yet; quantize a model trained on numeric columns`,
    );
  }
  const { train, validation, test } = await trainingDataFor(o, float, o.validationSplit);
  const floatMetrics = evaluateModel(float, test);
  let quantized: QuantizedModel;
  let epochs = 0;
  if (o.qat) {
    const optimizer = optimizerFrom(cmd, o);
    const session = prepareQat(float, { scheme: o.scheme as 'int8-per-channel' | 'int8-per-tensor', symmetric: !o.asymmetric });
    try {
      const history = await withEpochProgress(o.epochs, 'quantization-aware training', o.json, (hooks) =>
        fit(float, train, {
          optimizer,
          epochs: o.epochs,
          batchSize: o.batchSize,
          seed: o.seed,
          standardize: false,
          ...(validation ? { validation } : {}),
          ...(o.earlyStopping === undefined ? {} : { earlyStopping: earlyStoppingFrom(o) }),
          ...hooks,
        }),
      );
      epochs = history.epochs.length;
      quantized = session.convert();
    } finally {
      session.detach();
    }
  } else {
    quantized = quantize(float, {
      scheme: o.scheme,
      symmetric: !o.asymmetric,
      ...(o.groupSize === undefined ? {} : { groupSize: o.groupSize }),
      ...(o.dynamicRange === undefined ? {} : { dynamicRange: o.dynamicRange }),
      ...(STATIC.includes(o.scheme)
        ? {
            calibration: {
              data: train,
              ...(o.calibration ? { method: o.calibration } : {}),
              ...(o.percentile === undefined ? {} : { percentile: o.percentile }),
            },
          }
        : {}),
    });
  }
  const metrics = evaluateModel(quantized, test);
  const bytes = o.out === undefined ? modelBytes(quantized) : await writeModel(quantized, o.out);
  const summary = quantized.info();

  if (o.json) {
    emitJson({
      command: 'quantize',
      architecture: architecture(quantized),
      scheme: quantized.scheme,
      parameters: quantized.parameterCount,
      bytes,
      out: o.out ?? null,
      metrics: metricsJson(metrics, quantized),
      quantization: summary,
      qatEpochs: epochs,
      float: { path: loaded.path, parameters: float.parameterCount, bytes: loaded.bytes, metrics: metricsJson(floatMetrics, float) },
      rows: rowsJson(train, validation, test),
    });
    return;
  }
  out(`model       ${loaded.path}: ${architecture(float)}`);
  out(
    `quantized   ${quantized.scheme}${quantized.groupSize === undefined ? '' : ` in groups of ${quantized.groupSize} inputs`}${o.qat ? `, after ${epochs} epochs of quantization-aware training` : quantized.calibration ? `, ${quantized.calibration} calibration on ${train.numRows} rows` : ''}`,
  );
  out(
    `parameters  ${quantized.parameterCount}: ${bytesText(summary.bytes)} quantized, ${fmt(summary.compression, 2)}x smaller than float32`,
  );
  out(`file        ${bytesText(loaded.bytes)} → ${bytesText(bytes)}`);
  out(`test        float     ${metricsLine(floatMetrics)}`);
  out(`            quantized ${metricsLine(metrics)}`);
  out(o.out === undefined ? `not saved   (give --out <file> to keep it)` : `saved       ${o.out}`);
}
