// Hyperparameter search on iris with TPE and median pruning, define-by-run: each trial builds an
// MLP from the parameters it suggests, reports its validation loss every epoch, and stops early
// when the pruner says it is behind the median of the finished trials.
// node --import tsx examples/search-tpe.ts
import { Sequential, dense, dropout, fit, adam, iris, trainTestSplit, type Activation } from '../src/index.ts';
import { createStudy, TpeSampler, MedianPruner, TrialPruned } from '../src/search/index.ts';

const { train, validation } = trainTestSplit(iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 0 });

const study = await createStudy({
  name: 'iris-mlp',
  sampler: new TpeSampler({ seed: 1 }),
  pruner: new MedianPruner({ nStartupTrials: 5, nWarmupSteps: 5 }),
});

await study.optimize(
  async (trial) => {
    const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
    const layers = trial.suggestInt('layers', 1, 3);
    const activation = trial.suggestCategorical('activation', ['relu', 'tanh', 'gelu']) as Activation;
    const hidden = Array.from({ length: layers }, (_, i) => trial.suggestInt(`units_${i}`, 4, 64, { log: true }));
    const drop = trial.suggestFloat('dropout', 0, 0.5, { step: 0.1 });
    const model = new Sequential({
      inputs: 4,
      layers: [...hidden.flatMap((u) => (drop > 0 ? [dense(u, activation), dropout(drop)] : [dense(u, activation)])), dense(3)],
      seed: 0,
    });
    let last = Infinity;
    await fit(model, train!, {
      optimizer: adam({ lr }),
      epochs: 40,
      batchSize: 16,
      validation,
      seed: 0,
      onEpoch: (e) => {
        last = e.valLoss!;
        trial.report(last, e.epoch);
        if (trial.shouldPrune()) throw new TrialPruned(`pruned at epoch ${e.epoch}`);
      },
    });
    return last;
  },
  { trials: 30 },
);

const states = study.trials.reduce<Record<string, number>>((n, t) => ((n[t.state] = (n[t.state] ?? 0) + 1), n), {});
console.log(`trials: ${JSON.stringify(states)}`);
console.log(`best validation loss ${study.bestValue.toFixed(4)} with`, study.bestParams);
console.log('importances', study.importances());
