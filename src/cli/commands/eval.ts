// kiln eval: a saved model's metrics on labelled rows.
import type { Command } from 'commander';
import { modelRows } from '../data.ts';
import { architecture, evaluateModel, readModel } from '../model.ts';
import { commonOptions, type CommonOptions } from '../options.ts';
import { classificationText, emitJson, metricsJson, metricsLine, note, out, rowsJson } from '../print.ts';

export const SCORED_ROWS =
  "share of --data rows to score: the seeded test part 'kiln train' held out with the same --seed and --test-split (1: every row)";

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description("a model's metrics on labelled data (confusion matrix and per-class scores in text mode)");
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'model'], {
    testSplit: SCORED_ROWS,
    test: 'score every row of this CSV file instead of a part of --data',
  });
  cmd.addHelpText(
    'after',
    `
Examples:
  kiln eval --model iris.safetensors --data iris                 # the 20% test part train held out
  kiln eval --model iris.safetensors --data iris --test-split 1  # every row
  kiln eval --model houses.safetensors --test holdout.csv --label price --json`,
  );
  cmd.action((o: CommonOptions) => evalCommand(o));
}

async function evalCommand(o: CommonOptions): Promise<void> {
  const loaded = await readModel(o.model);
  const { model } = loaded;
  const rows = await modelRows(o, model, false, false);
  if (!o.json) for (const line of rows.notes) note(line);
  const evaluation = evaluateModel(model, rows.data);
  if (o.json) {
    emitJson({
      command: 'eval',
      task: model.task,
      architecture: architecture(model),
      parameters: model.parameterCount,
      bytes: loaded.bytes,
      data: rows.source,
      rows: rowsJson(undefined, undefined, rows.data),
      metrics: metricsJson(evaluation, model),
    });
    return;
  }
  out(`model       ${loaded.path}: ${architecture(model)}`);
  out(`rows        ${rows.data.numRows} of ${rows.source}`);
  out(`metrics     ${metricsLine(evaluation)}`);
  if (evaluation.task === 'classification') {
    out();
    for (const line of classificationText(evaluation, rows.data.classNames)) out(line);
  }
}
