// Flags that describe a new network (hidden widths, activation, dropout) and the layers they make.
// Shared by the commands that build a model: train, and distill for its student.
import { Option, type Command } from 'commander';
import { ACTIVATIONS, dense, dropout, type Activation, type LayerConfig } from '../index.ts';
import { choice, fraction, widths } from './options.ts';

export interface ArchitectureFlags {
  layers: number[];
  activation: Activation;
  dropout: number;
}

export const ARCHITECTURE_KEYS = ['layers', 'activation', 'dropout'] as const;

export function architectureOptions(cmd: Command, defaultWidths: readonly number[]): Command {
  return cmd
    .addOption(new Option('--layers <widths>', "hidden layer widths, comma-separated ('none' for a linear model)").argParser(widths).default(defaultWidths, defaultWidths.join(',')))
    .addOption(choice('--activation <name>', 'activation of the hidden layers', ACTIVATIONS).default('relu'))
    .option('--dropout <rate>', 'dropout after each hidden layer', fraction(), 0);
}

/** Hidden layers from the flags, then a linear output layer of `outputs` units. */
export function layersFrom(f: ArchitectureFlags, outputs: number): LayerConfig[] {
  const layers: LayerConfig[] = f.layers.flatMap((units) => [dense(units, f.activation), ...(f.dropout > 0 ? [dropout(f.dropout)] : [])]);
  layers.push(dense(outputs));
  return layers;
}
