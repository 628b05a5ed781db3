// Two objectives at once: validation loss against parameter count for small MLPs on iris, with a
// hard limit on size. The study keeps the Pareto front of trials no other trial beats on both.
// node --import tsx examples/search-multi-objective.ts
import { Sequential, dense, fit, adam, iris, trainTestSplit, evaluate } from '../src/index.ts';
import { createStudy, TpeSampler, modelLimits } from '../src/search/index.ts';

const { train, validation } = trainTestSplit(iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 0 });

const study = await createStudy({
  directions: ['minimize', 'minimize'],
  sampler: new TpeSampler({ seed: 2 }),
  constraints: modelLimits({ maxParams: 800 }),
});

await study.optimize(
  async (trial) => {
    const hidden = Array.from({ length: trial.suggestInt('layers', 1, 2) }, (_, i) => trial.suggestInt(`units_${i}`, 2, 48, { log: true }));
    const model = new Sequential({ inputs: 4, layers: [...hidden.map((u) => dense(u, 'relu')), dense(3)], seed: 0 });
    await fit(model, train!, {
      optimizer: adam({ lr: trial.suggestFloat('lr', 1e-3, 1e-1, { log: true }) }),
      epochs: 30,
      batchSize: 16,
      seed: 0,
    });
    trial.setUserAttr('params', model.parameterCount);
    const scores = evaluate(model, validation!);
    if (scores.task !== 'classification') throw new Error('iris is a classification task');
    return [scores.logLoss, model.parameterCount];
  },
  { trials: 40 },
);

console.log('Pareto front (validation loss, parameters):');
for (const t of study.paretoFront.sort((a, b) => a.values![1]! - b.values![1]!)) {
  console.log(`  #${t.number}  loss ${t.values![0]!.toFixed(4)}  params ${t.values![1]}  ${JSON.stringify(t.params)}`);
}
