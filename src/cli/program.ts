// The kiln command line: every command, parsing, dispatch, and every failure as one line on stderr.
import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench.ts';
import { registerDistill } from './commands/distill.ts';
import { registerEval } from './commands/eval.ts';
import { registerExport } from './commands/export.ts';
import { registerImport } from './commands/import.ts';
import { registerInfo } from './commands/info.ts';
import { registerPipeline } from './commands/pipeline.ts';
import { registerPredict } from './commands/predict.ts';
import { registerPrune } from './commands/prune.ts';
import { registerQuantize } from './commands/quantize.ts';
import { registerSearch, registerWorker } from './commands/search.ts';
import { registerStudy } from './commands/study.ts';
import { registerServe } from './commands/serve.ts';
import { registerTrain } from './commands/train.ts';
import { EXIT_FAILURE, EXIT_USAGE, reportError } from './errors.ts';
import { pipelineApi } from './library.ts';
import { packageVersion } from './version.ts';

export function createProgram(): Command {
  const program = new Command('kiln')
    .description('Train, evaluate, inspect and benchmark small models on one SIMD WebAssembly core.')
    .version(packageVersion(), '-V, --version', 'print the version of kiln-ml')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Commander's own errors (unknown option, bad value) become one line like every other error.
      outputError: (text, write) => write(`kiln: ${text.replace(/\s*\n\s*/g, ' ').trim()}\n`),
    });
  program.addHelpText(
    'after',
    `
Examples:
  kiln train --data iris --epochs 100 --lr 0.01 --out iris.safetensors
  kiln eval --model iris.safetensors --data iris
  kiln predict --model iris.safetensors --data flowers.csv --out-csv predictions.csv
  kiln info --model iris.safetensors
  kiln bench --model iris.safetensors --data iris
  kiln export --format onnx --model iris.safetensors --out iris.onnx
  kiln import --model classifier.onnx --task classification --out teacher.safetensors

Run 'kiln <command> --help' for the flags of a command.`,
  );
  for (const register of [
    registerTrain,
    registerEval,
    registerPredict,
    registerInfo,
    registerBench,
    registerDistill,
    registerPrune,
    registerQuantize,
    registerSearch,
    registerWorker,
    registerStudy,
    registerServe,
    registerExport,
    registerImport,
  ])
    register(program);
  registerPipeline(program, pipelineApi);
  return program;
}

/** Runs the command line and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // Help shown because no command was given: a usage error, already printed.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    reportError(error, argv.includes('--debug'));
    const code = (error as { exitCode?: unknown }).exitCode;
    return typeof code === 'number' && code > 0 ? code : EXIT_FAILURE;
  }
}
