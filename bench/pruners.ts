// The model search's default pruner: Hyperband against the median rule on an MNIST sample, the
// same sampler, seeds and budget. Epochs trained (the cost, independent of machine load), trials
// pruned, the chosen trial's validation accuracy and its model's test accuracy; wall time too.
// npm run bench -- pruners   (KILN_BENCH_PER_DIGIT, default 150; KILN_BENCH_SEEDS, default 3)
import { mnist } from '../src/data/builtin.ts';
import { trainTestSplit } from '../src/data/split.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { searchModel } from '../src/model-search/search-model.ts';
import { fmt } from './_stats.ts';

const perDigit = Number(process.env.KILN_BENCH_PER_DIGIT ?? 150);
const seeds = Number(process.env.KILN_BENCH_SEEDS ?? 3);
const TRIALS = 30,
  EPOCHS = 10;
const { train, validation, test } = trainTestSplit(await mnist({ perDigit }), { testFraction: 0.2, validationFraction: 0.15, seed: 0 });
console.log(
  `MNIST, ${perDigit} images per digit (${train.numRows} train, ${validation!.numRows} validation, ${test.numRows} test); ${TRIALS} trials of up to ${EPOCHS} epochs, TPE\n`,
);
console.log('| pruner | seed | epochs trained | pruned | best validation accuracy | test accuracy | wall s |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const pruner of ['hyperband', 'median'] as const) {
  for (let seed = 0; seed < seeds; seed++) {
    const start = performance.now();
    const r = await searchModel(train, { validation: validation!, trials: TRIALS, epochs: EPOCHS, seed, pruner });
    const wall = (performance.now() - start) / 1000;
    const epochs = r.study.trials.reduce((n, t) => n + Object.keys(t.intermediate).length, 0);
    const pruned = r.study.trials.filter((t) => t.state === 'pruned').length;
    const e = evaluate(r.model, test);
    console.log(
      `| ${pruner} | ${seed} | ${epochs} | ${pruned} | ${fmt(r.best.values![0]!, 4)} | ${e.task === 'classification' ? fmt(e.accuracy, 4) : '-'} | ${fmt(wall, 1)} |`,
    );
    r.model.dispose();
  }
}
