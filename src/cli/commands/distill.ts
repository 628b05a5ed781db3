// kiln distill: train a small student to match a saved teacher's outputs (and the labels), then
// compare the two on the held-out rows.
import type { Command } from 'commander';
import { distill, evaluate, mlpLayers, Sequential, TableEncoder } from '../../index.ts';
import { architectureOptions, type ArchitectureFlags } from '../architecture-flags.ts';
import { keepEncoder, trainingDataFor } from '../data.ts';
import { usageError } from '../errors.ts';
import { architecture, modelBytes, readFloatModel, writeModel } from '../model.ts';
import { augmentSpec, commonOptions, number, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, metricsJson, metricsLine, out, rowsJson } from '../print.ts';
import { augmentOption, optimizerFrom, trainingOptions, withEpochProgress, type TrainingFlags } from '../training-flags.ts';

interface DistillOptions extends CommonOptions, TrainingFlags, ArchitectureFlags {
  temperature: number;
  alpha: number;
  transfer?: ReturnType<typeof augmentSpec>;
}

export function registerDistill(program: Command): void {
  const cmd = program.command('distill').description("train a smaller student model on a teacher model's outputs and compare them");
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'model', 'out'], {
    data: 'transfer data (split as train splits it; the test part scores teacher and student)',
    model: 'the teacher model file',
    out: 'student model file to write (atomically)',
  });
  architectureOptions(cmd, [32])
    .option('--temperature <T>', 'softmax temperature of the soft targets', number(Number.MIN_VALUE), 4)
    .option('--alpha <a>', 'weight of the soft (teacher) loss; the labels get 1 - alpha', number(0, 1), 0.9);
  trainingOptions(cmd, { epochs: 30 });
  augmentOption(cmd).option(
    '--transfer <spec>',
    'one more update per batch on synthetic rows only the teacher labels, made from the batch as --augment makes them (e.g. mixup=1,shift=2)',
    augmentSpec,
  );
  cmd.addHelpText(
    'after',
    `
The student has the teacher's inputs, outputs and task; --layers, --activation and --dropout set
its hidden layers. Early stopping is not available here.

Examples:
  kiln distill --model big.safetensors --data iris --layers 8 --epochs 100 --lr 0.01 --out small.safetensors
  kiln distill --model mnist-512.safetensors --data mnist --layers 32 --temperature 4 --alpha 0.9 --json
  kiln distill --model mnist-512.safetensors --data mnist --layers 32 --augment shift=2,shape=1x28x28 --epochs 60
  kiln distill --model mnist-512.safetensors --data mnist --layers 16 --augment shift=1,shape=1x28x28 --transfer mixup=1,shift=2 --epochs 160

With --augment the teacher is run on every augmented batch, so it sees exactly what the student sees;
with --transfer also on every synthetic batch (its image shape defaults to --augment's).`,
  );
  cmd.action((o: DistillOptions) => distillCommand(cmd, o));
}

async function distillCommand(cmd: Command, o: DistillOptions): Promise<void> {
  if (o.earlyStopping !== undefined) throw usageError('--early-stopping is not available in distill');
  const optimizer = optimizerFrom(cmd, o);
  const loaded = await readFloatModel(o.model, 'a distillation teacher');
  const teacher = loaded.model;
  const { train, validation, test } = await trainingDataFor(o, teacher, o.validationSplit);
  const student = new Sequential({ inputs: teacher.inputs, layers: mlpLayers(o, teacher.outputs), task: teacher.task, seed: o.seed });
  const history = await withEpochProgress(o.epochs, 'distilling', o.json, (hooks) =>
    distill({
      teacher,
      student,
      data: train,
      temperature: o.temperature,
      alpha: o.alpha,
      optimizer,
      epochs: o.epochs,
      batchSize: o.batchSize,
      seed: o.seed,
      ...(o.augment ? { augment: o.augment } : {}),
      ...(o.transfer ? { transfer: o.transfer } : {}),
      ...(validation ? { validation } : {}),
      ...hooks,
    }),
  );
  keepEncoder(student, { encoder: teacher.preprocessing.table && TableEncoder.fromJSON(teacher.preprocessing.table) });
  const teacherMetrics = evaluate(teacher, test);
  const metrics = evaluate(student, test);
  const bytes = o.out === undefined ? modelBytes(student) : await writeModel(student, o.out);

  if (o.json) {
    emitJson({
      command: 'distill',
      architecture: architecture(student),
      config: student.toConfig(),
      parameters: student.parameterCount,
      bytes,
      out: o.out ?? null,
      metrics: metricsJson(metrics, student),
      epochs: history.epochs.length,
      history: history.epochs,
      temperature: o.temperature,
      alpha: o.alpha,
      teacher: {
        path: loaded.path,
        architecture: architecture(teacher),
        parameters: teacher.parameterCount,
        bytes: loaded.bytes,
        metrics: metricsJson(teacherMetrics, teacher),
      },
      rows: rowsJson(train, validation, test),
    });
    return;
  }
  out(`teacher     ${loaded.path}: ${architecture(teacher)}, ${teacher.parameterCount} parameters, ${bytesText(loaded.bytes)}`);
  out(`student     ${architecture(student)}, ${student.parameterCount} parameters, ${bytesText(bytes)}`);
  out(`distilled   ${history.epochs.length} epochs at temperature ${o.temperature}, alpha ${o.alpha}, on ${train.numRows} rows`);
  out(`test        teacher ${metricsLine(teacherMetrics)}`);
  out(`            student ${metricsLine(metrics)}`);
  out(o.out === undefined ? `not saved   (give --out <file> to keep it)` : `saved       ${o.out}`);
}
