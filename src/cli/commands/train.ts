// kiln train: build a model from flags (or continue a saved one), fit, score on the test part, save.
import type { Command } from 'commander';
import { evaluate, fit } from '../../index.ts';
import { architectureOptions, ARCHITECTURE_KEYS, buildModel, csvTaskOf, taskOption, type ArchitectureFlags, type TaskFlag } from '../architecture-flags.ts';
import { trainingData, trainingDataFor } from '../data.ts';
import { usageError } from '../errors.ts';
import { architecture, modelBytes, readFloatModel, writeModel } from '../model.ts';
import { commonOptions, givenFlag, number, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, metricsJson, metricsLine, out } from '../print.ts';
import { fitOptionsFrom, trainingOptions, withEpochProgress, type TrainingFlags } from '../training-flags.ts';

interface TrainOptions extends CommonOptions, TrainingFlags, ArchitectureFlags {
  task: TaskFlag;
  labelSmoothing?: number;
}

const ARCHITECTURE_FLAGS = [...ARCHITECTURE_KEYS, 'task'];

export function registerTrain(program: Command): void {
  const cmd = program.command('train').description('train a model on data, score it on held-out rows and save it');
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'model', 'out'], { model: 'continue training this model file instead of a new one' });
  taskOption(architectureOptions(cmd, [64]))
    .option('--label-smoothing <eps>', 'label smoothing of the cross-entropy', number(0, 0.999999));
  trainingOptions(cmd, { epochs: 50 });
  cmd.addHelpText('after', `
Examples:
  kiln train --data iris --layers 16 --epochs 100 --lr 0.01 --out iris.safetensors
  kiln train --data houses.csv --label price --task regression --layers 64,32 --dropout 0.1 \\
             --optimizer adamw --schedule cosine --warmup-steps 50 --validation-split 0.1 --early-stopping 5
  kiln train --data mnist --layers 128 --epochs 5 --batch-size 64 --json > run.json
  kiln train --data more.csv --model old.safetensors --epochs 10 --out new.safetensors`);
  cmd.action((o: TrainOptions) => train(cmd, o));
}

async function train(cmd: Command, o: TrainOptions): Promise<void> {
  const started = performance.now();
  const options = fitOptionsFrom(cmd, o, o.seed, undefined);
  const base = o.model === undefined ? undefined : await readFloatModel(o.model, 'training');
  if (base) {
    const clash = givenFlag(cmd, ARCHITECTURE_FLAGS);
    if (clash) throw usageError(`${clash} describes a new model; it cannot change the architecture of --model ${o.model}`);
  }
  const { train: trainSet, validation, test } = base ? await trainingDataFor(o, base.model, o.validationSplit) : await trainingData(o, csvTaskOf(o.task), o.validationSplit);
  const model = base?.model ?? buildModel(o, o.task, trainSet, o.seed);

  const history = await withEpochProgress(o.epochs, 'training', o.json, (hooks) => fit(model, trainSet, { ...options, ...(validation ? { validation } : {}), ...hooks }));
  const evaluation = evaluate(model, test);
  const bytes = o.out === undefined ? modelBytes(model) : await writeModel(model, o.out);
  const seconds = (performance.now() - started) / 1000;

  if (o.json) {
    emitJson({
      command: 'train',
      task: model.task,
      architecture: architecture(model),
      config: model.toConfig(),
      parameters: model.parameterCount,
      bytes,
      out: o.out ?? null,
      rows: { train: trainSet.numRows, validation: validation?.numRows ?? 0, test: test.numRows },
      metrics: metricsJson(evaluation),
      epochs: history.epochs.length,
      bestEpoch: history.bestEpoch,
      stoppedEarly: history.stoppedEarly,
      history: history.epochs,
      seconds,
    });
    return;
  }
  out(`model       ${architecture(model)}`);
  out(`parameters  ${model.parameterCount}`);
  out(`rows        ${trainSet.numRows} train, ${validation?.numRows ?? 0} validation, ${test.numRows} test`);
  out(`trained     ${history.epochs.length} epochs${history.stoppedEarly ? ' (stopped early)' : ''}, weights of epoch ${history.bestEpoch}, ${seconds.toFixed(1)} s`);
  out(`test        ${metricsLine(evaluation)}`);
  out(o.out === undefined ? `not saved   (${bytesText(bytes)}; give --out <file> to keep it)` : `saved       ${o.out} (${bytesText(bytes)})`);
}
