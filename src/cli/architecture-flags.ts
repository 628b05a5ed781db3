// Flags that describe a new network (hidden widths, activation, dropout, task) and the model
// they make (hidden layers as the model search builds them: mlpLayers). Shared by train, search
// (whose flags become the search's defaults) and distill for its student.
import { Option, type Command } from 'commander';
import { ACTIVATIONS, mlpLayers, Sequential, type Activation, type Dataset } from '../index.ts';
import type { CsvTask } from './data.ts';
import { CliError } from './errors.ts';
import { choice, fraction, widths } from './options.ts';

export type TaskFlag = 'auto' | 'classification' | 'regression' | 'binary';

export interface ArchitectureFlags {
  layers: number[];
  activation: Activation;
  dropout: number;
}

export const ARCHITECTURE_KEYS = ['layers', 'activation', 'dropout'] as const;

export function architectureOptions(cmd: Command, defaultWidths: readonly number[], defaultText = defaultWidths.join(',')): Command {
  return cmd
    .addOption(
      new Option('--layers <widths>', "hidden layer widths, comma-separated ('none' for a linear model)")
        .argParser(widths)
        .default(defaultWidths, defaultText),
    )
    .addOption(choice('--activation <name>', 'activation of the hidden layers', ACTIVATIONS).default('relu'))
    .option('--dropout <rate>', 'dropout after each hidden layer', fraction(), 0);
}

export function taskOption(cmd: Command): Command {
  return cmd.addOption(
    choice('--task <task>', 'what to learn (auto: regression for numeric targets, else classification)', [
      'auto',
      'classification',
      'regression',
      'binary',
    ]).default('auto'),
  );
}

/** How to read the label column for a --task. */
export const csvTaskOf = (task: TaskFlag): CsvTask => (task === 'regression' ? 'regression' : task === 'auto' ? 'auto' : 'classification');

/** A new model for `train`'s data: inputs, outputs and task from the data (and --task). */
export function buildModel(f: ArchitectureFlags, task: TaskFlag, train: Dataset, seed: number): Sequential {
  const resolved = task === 'auto' ? (train.task === 'regression' ? 'regression' : 'classification') : task;
  if (resolved !== 'regression' && train.task === 'regression')
    throw new CliError(`--task ${resolved} needs class labels; the label column holds numeric targets`);
  const outputs = resolved === 'regression' ? train.numTargets : resolved === 'binary' ? 1 : Math.max(2, train.numClasses);
  return new Sequential({ inputs: train.numFeatures, layers: mlpLayers(f, outputs), task: resolved, seed });
}
