// npm run demo: the whole path on the 10,000 MNIST digits in one call. The digits are images
// [1, 28, 28], so a TPE search with Hyperband pruning picks a convolutional network on
// validation rows (the convolutional search space); the chosen CNN is distilled into MLP
// students, pruned and quantised to int8 per channel, and every stage is measured on the same
// held-out test rows. With the accuracy budget (1 point by default; `npm run demo -- --max-drop 0.5`)
// the compression stages are a study over student widths (taught by the mean of the search's three
// best trials), a ladder of pruning shares and int8, and the smallest model within the budget is
// kept. Writes out/model.safetensors, out/report.html and out/pipeline.json.
// KILN_DEMO_MLP=1 searches MLPs over flat pixels instead (faster on two cores).
import { mnist } from '../src/index.ts';
import { runPipeline } from '../src/pipeline/pipeline.ts';
import { savePipeline } from '../src/pipeline/save.ts';

// npm run demo -- --max-drop 0.5: the accuracy budget in points (default 1).
const at = process.argv.indexOf('--max-drop');
const maxDropPoints = at >= 0 ? Number(process.argv[at + 1]) : 1;
if (!(maxDropPoints >= 0 && maxDropPoints <= 100))
  throw new RangeError(`demo: --max-drop takes points in [0, 100], got ${process.argv[at + 1]}`);
const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1).padStart(6);
const mlp = process.env.KILN_DEMO_MLP === '1';
const data = await mnist({ image: !mlp });

const result = await runPipeline(
  data,
  {
    seed: 0,
    maxDrop: maxDropPoints / 100,
    // A CNN trial costs tens of seconds per epoch: fewer, shorter trials than for MLPs.
    search: mlp ? { trials: 50, timeBudgetMs: 110_000, epochs: 10 } : { trials: 8, timeBudgetMs: 600_000, epochs: 6 },
    distill: { epochs: 30 },
    // With the budget, the study prunes along the ladder 30 → 50 → 70 % of filters and
    // units, each rung 2 steps of 3 fine-tuning epochs from the one before.
    prune: { method: 'structured', steps: 2, fineTuneEpochs: 3 },
    quantize: { scheme: 'int8-per-channel', method: 'percentile' },
  },
  {
    onEvent: (e) => {
      if (e.type === 'start')
        console.log(
          `mnist: ${e.rows.train} train, ${e.rows.validation} validation, ${e.rows.test} test rows; stages ${e.stages.join(' → ')}`,
        );
      if (e.type === 'stage-start') console.log(`${seconds()} s  ${e.stage} …`);
      if (e.type === 'trial') {
        const t = e.trial;
        const value = t.values ? t.values[0]!.toFixed(4) : '-';
        console.log(
          `${seconds()} s    trial ${String(t.number).padStart(2)} ${t.state.padEnd(8)} val_acc ${value} after ${t.intermediate.length} epochs  (best: trial ${e.bestTrial ?? '-'})`,
        );
      }
      if (e.type === 'stage-end') console.log(`${seconds()} s  ${e.stage}: ${e.row.model}, test accuracy ${e.row.accuracy.toFixed(4)}`);
    },
  },
);

const paths = await savePipeline(result, 'out');
const header = ['stage', 'model', 'test accuracy', 'parameters', 'non-zeros', 'bytes', 'batch-1 latency (µs)', 'speedup'];
console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const r of result.stages) {
  console.log(
    `| ${r.stage} | ${r.model} | ${r.accuracy.toFixed(4)} | ${r.parameters} | ${r.nonZeros} | ${r.bytes} | ${r.latencyUs.toFixed(1)} | ${r.speedup.toFixed(2)}× |`,
  );
}
const first = result.stages[0]!,
  last = result.stages.at(-1)!;
console.log(
  `\n${result.trials.length} trials (${result.trials.filter((t) => t.state === 'pruned').length} pruned); final model ${(first.bytes / last.bytes).toFixed(1)}× smaller than the searched one`,
);
const study = result.compression;
if (study) {
  console.log(
    `\nbudget: ${maxDropPoints} points below the searched model's validation accuracy ${study.reference.toFixed(4)} (line ${study.line.toFixed(4)})`,
  );
  console.log('| candidate | validation accuracy | bytes | batch-1 latency (µs) | front | kept |\n|---|---:|---:|---:|:-:|:-:|');
  study.candidates.forEach((c, i) =>
    console.log(
      `| ${c.name}${c.distilled ? ' (distilled)' : ''} | ${c.accuracy.toFixed(4)} | ${c.bytes} | ${c.latencyUs.toFixed(1)} | ${study.front.includes(i) ? '•' : ''} | ${i === study.chosen ? '✓' : ''} |`,
    ),
  );
  console.log(
    `test accuracy drop ${((first.accuracy - last.accuracy) * 100).toFixed(2)} points, ${(first.bytes / last.bytes).toFixed(1)}× smaller`,
  );
}
console.log(`wrote ${paths.model}, ${paths.report}, ${paths.json}; total ${seconds().trim()} s`);
