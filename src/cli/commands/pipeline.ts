// kiln pipeline: data in, a small fast model out. Search, distil, prune and quantise in one run,
// every stage measured on the same test rows, then the final model, an HTML report and the
// result as JSON written to a folder.
import type { Command } from 'commander';
import type { SearchObjective } from '../../model-search/space.ts';
import type { StageName } from '../../pipeline/types.ts';
import { QUANT_SCHEMES, type Augment, type QuantScheme } from '../../index.ts';
import type { PipelineApi } from '../library.ts';
import { loadData } from '../data.ts';
import { usageError } from '../errors.ts';
import { readSpaceFile } from '../search-space.ts';
import { choice, commonOptions, fraction, integer, number, widths, type CommonOptions } from '../options.ts';
import { bytesText, emitJson, fmt, out, table } from '../print.ts';
import { progressBar } from '../progress.ts';
import { augmentOption, interruptSignal } from '../training-flags.ts';

interface PipelineFlags extends CommonOptions {
  trials: number;
  workers: number;
  timeBudget?: number;
  stages: StageName[];
  objectives: SearchObjective[];
  epochs: number;
  space?: string;
  validationSplit: number;
  studentWidths?: number[];
  distillEpochs: number;
  pruneMethod: 'structured' | 'unstructured';
  sparsity?: number[];
  teachers: number;
  pruneSteps: number;
  scheme: QuantScheme;
  maxDrop?: number;
  optimizeFor?: 'bytes' | 'latency';
  augment?: Augment;
}

function fractions(value: string): number[] {
  const one = fraction();
  return value.split(',').map((part) => one(part));
}

export function registerPipeline(program: Command, api: PipelineApi): void {
  const { STAGE_NAMES, SEARCH_OBJECTIVES } = api;
  const cmd = program
    .command('pipeline')
    .description(
      'search a model, distil, prune and quantise it, measure every stage on the test rows, and write the model and an HTML report',
    );
  commonOptions(cmd, ['data', 'label', 'testSplit', 'out'], {
    data: "classification data: a CSV file, 'iris' or 'mnist'",
    out: 'folder for model.safetensors, report.html and pipeline.json (created if missing)',
  })
    .option('--validation-split <fraction>', 'share of rows the search scores trials on (and the later stages monitor)', fraction(), 0.1)
    .option('--trials <n>', 'search trials', integer(1, 1e6), 20)
    .option('--workers <n>', 'threads training search trials at once; a seed repeats exactly for the same count', integer(1, 1024), 1)
    .option('--time-budget <seconds>', 'stop starting search trials after this long', number(0))
    .option(
      '--stages <list>',
      `stages to run, comma-separated, in order: ${STAGE_NAMES.join(', ')} (without search a baseline MLP is trained)`,
      (v: string) => stageList(v, STAGE_NAMES),
      STAGE_NAMES.slice(),
    )
    .option(
      '--objectives <list>',
      `search objectives on the validation rows, comma-separated: ${SEARCH_OBJECTIVES.join(', ')}; several turn pruning of trials off`,
      (v: string) => objectiveList(v, SEARCH_OBJECTIVES),
      ['accuracy'],
    )
    .option('--epochs <n>', 'epochs of a search trial that is not pruned (or of the baseline without search)', integer(1), 10)
    .option('--space <file>', 'JSON search space (default: lr, layers, units_{i}, activation, dropout, batch_size)')
    .option('--student-widths <widths>', "hidden widths of the distilled student (default: a quarter of the teacher's)", widths)
    .option('--distill-epochs <n>', 'distillation epochs', integer(1), 10)
    .addOption(
      choice(
        '--prune-method <method>',
        'structured: remove hidden neurons (smaller, faster); unstructured: zero single weights (sparse file)',
        ['structured', 'unstructured'],
      ).default('structured'),
    )
    .option(
      '--sparsity <fractions>',
      'share of hidden neurons and filters (structured) or weights (unstructured) to remove (default 0.5); with --max-drop, the comma-separated shares tried (default 0.3,0.5,0.7)',
      fractions,
    )
    .option('--teachers <n>', "the search's best trials whose mean probabilities teach the distilled students", integer(1, 64), 3)
    .option('--prune-steps <n>', 'pruning steps, each followed by fine-tuning', integer(1, 1000), 4)
    .addOption(choice('--scheme <name>', 'quantisation scheme', QUANT_SCHEMES).default('int8-per-channel'))
    .option(
      '--max-drop <points>',
      'accuracy budget in percentage points: distil, prune and quantise become a study over student widths, pruning and number formats, and the smallest model whose validation accuracy is within this of the searched model is kept',
      number(0, 100),
    )
    .addOption(
      choice('--optimize-for <measure>', 'with --max-drop: keep the smallest (bytes) or the fastest (latency)', ['bytes', 'latency']),
    );
  augmentOption(cmd);
  cmd.addHelpText(
    'after',
    `
Trials are scored on the validation rows only; the test rows score each stage once.

Examples:
  kiln pipeline --data iris --trials 20 --epochs 40 --out iris-run
  kiln pipeline --data mnist --trials 30 --time-budget 120 --out out
  kiln pipeline --data mnist --trials 30 --workers 2 --out run/
  kiln pipeline --data flowers.csv --label species --stages search,quantize --json
  kiln pipeline --data mnist --max-drop 1 --out out          # the smallest model within 1 point
  kiln pipeline --data mnist --max-drop 0.5 --optimize-for latency --augment shift=2,shape=1x28x28`,
  );
  cmd.action((o: PipelineFlags) => pipeline(o, api));
}

function stageList(value: string, STAGE_NAMES: readonly StageName[]): StageName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names)
    if (!STAGE_NAMES.includes(n as StageName)) throw usageError(`--stages: unknown stage '${n}'; use ${STAGE_NAMES.join(', ')}`);
  const order = names.map((n) => STAGE_NAMES.indexOf(n as StageName));
  if (order.some((v, i) => i > 0 && v <= order[i - 1]!))
    throw usageError(`--stages must follow the order ${STAGE_NAMES.join(', ')} without repeats, got ${value}`);
  return names as StageName[];
}

function objectiveList(value: string, SEARCH_OBJECTIVES: readonly SearchObjective[]): SearchObjective[] {
  const names = value.split(',').map((s) => s.trim());
  for (const n of names)
    if (!SEARCH_OBJECTIVES.includes(n as SearchObjective))
      throw usageError(`--objectives: unknown objective '${n}'; use ${SEARCH_OBJECTIVES.join(', ')}`);
  if (new Set(names).size !== names.length) throw usageError(`--objectives names an objective twice: ${value}`);
  return names as SearchObjective[];
}

async function pipeline(o: PipelineFlags, { runPipeline, savePipeline, pipelineJson, parseMlpSpace }: PipelineApi): Promise<void> {
  if (!(o.testSplit > 0 && o.testSplit < 1)) throw usageError(`--test-split must be in (0, 1), got ${o.testSplit}`);
  if (!(o.validationSplit > 0))
    throw usageError('--validation-split must be above 0: trials are compared on validation rows, never on the test rows');
  if (o.stages.length === 0) throw usageError('--stages names no stage');
  const space = o.space === undefined ? undefined : await readSpaceFile(o.space, parseMlpSpace);
  const data = await loadData(o.data, o.label, 'classification', '--data', o.encoding, { options: o });
  const bar = o.stages.includes('search') ? progressBar(o.trials, 'searching', o.json, '  best {best}', { best: '-' }) : undefined;
  const interrupt = interruptSignal();
  // Counted, not numbered: with workers, the trials of a batch end in any order.
  let ended = 0;
  let result;
  try {
    result = await runPipeline(
      data,
      {
        seed: o.seed,
        stages: o.stages,
        objectives: o.objectives,
        baseline: { epochs: o.epochs },
        split: { testFraction: o.testSplit, validationFraction: o.validationSplit },
        search: {
          trials: o.trials,
          ...(o.timeBudget === undefined ? {} : { timeBudgetMs: o.timeBudget * 1000 }),
          epochs: o.epochs,
          workers: o.workers,
          ...(space ? { space } : {}),
        },
        distill: {
          epochs: o.distillEpochs,
          ...(o.studentWidths ? { widths: o.studentWidths } : {}),
          ...(o.augment ? { augment: o.augment } : {}),
          teachers: o.teachers,
        },
        ...(o.maxDrop === undefined ? {} : { maxDrop: o.maxDrop / 100 }),
        ...(o.optimizeFor === undefined ? {} : { optimizeFor: o.optimizeFor }),
        prune: {
          method: o.pruneMethod,
          ...(o.sparsity ? { sparsity: o.sparsity.length === 1 ? o.sparsity[0]! : o.sparsity } : {}),
          steps: o.pruneSteps,
        },
        quantize: { scheme: o.scheme },
      },
      {
        signal: interrupt.signal,
        onEvent: (e) => {
          if (e.type === 'trial') bar?.update(++ended, { best: e.bestTrial === null ? '-' : `trial ${e.bestTrial}` });
          if (e.type === 'stage-end' && e.stage === 'search') bar?.stop();
        },
      },
    );
  } finally {
    bar?.stop();
    interrupt.done();
  }
  const paths = o.out === undefined ? null : await savePipeline(result, o.out);

  if (o.json) {
    // The final stage's figures where every command puts them: metrics, parameters, bytes.
    const last = result.stages.at(-1)!;
    const rows = result.data.rows;
    emitJson({
      command: 'pipeline',
      metrics: { task: 'classification', accuracy: last.accuracy, classNames: result.data.classes },
      rows: { total: rows.train + rows.validation + rows.test, ...rows },
      parameters: last.parameters,
      bytes: result.model.bytes.length,
      ...pipelineJson(result),
      out: paths,
    });
    return;
  }
  const rows = result.data.rows;
  const count = (state: string) => result.trials.filter((t) => t.state === state).length;
  out(`data        ${o.data}: ${rows.train} train, ${rows.validation} validation, ${rows.test} test rows`);
  if (result.trials.length > 0) {
    out(
      `search      ${result.trials.length} trials (${count('complete')} complete, ${count('pruned')} pruned, ${count('failed')} failed); chosen trial ${result.bestTrial}`,
    );
  }
  out();
  const header = ['stage', 'model', 'test accuracy', 'parameters', 'non-zeros', 'bytes', 'latency (µs)', 'speedup'];
  for (const line of table(
    header,
    result.stages.map((r) => [
      r.stage,
      r.model,
      fmt(r.accuracy),
      String(r.parameters),
      String(r.nonZeros),
      String(r.bytes),
      r.latencyUs.toFixed(1),
      `${r.speedup.toFixed(2)}`,
    ]),
  ))
    out(line);
  out();
  const study = result.compression;
  if (study) {
    const c = study.candidates[study.chosen]!;
    out(
      `budget      ${fmt(study.maxDrop * 100, 2)} points below validation accuracy ${fmt(study.reference)}: ${study.candidates.length} candidates, ${study.front.length} on the front; kept ${c.name} (validation ${fmt(c.accuracy)}, ${c.bytes} bytes, ${c.latencyUs.toFixed(1)} µs)`,
    );
  }
  out(`final       ${result.model.format}, ${bytesText(result.model.bytes.length)}; ${result.seconds.toFixed(1)} s`);
  out(
    paths === null
      ? 'not saved   (give --out <dir> to write the model and the report)'
      : `saved       ${paths.model}, ${paths.report}, ${paths.json}`,
  );
}
