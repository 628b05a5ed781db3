// Pruners on scripted learning curves. Each expected stopping step is worked out by hand from
// the algorithm's definition (in the comments), not from running the pruner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createStudy, type Study } from '../../src/search/study.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { MedianPruner, PercentilePruner } from '../../src/search/pruners/median.ts';
import { SuccessiveHalvingPruner } from '../../src/search/pruners/successive-halving.ts';
import { HyperbandPruner } from '../../src/search/pruners/hyperband.ts';
import { NopPruner, type Pruner } from '../../src/search/pruners/pruner.ts';
import { crc32 } from '../../src/search/random.ts';

// Reports the curve step by step, asking the pruner after each report. Returns the step at which
// the trial was pruned, or null when it ran to the end (then it completes with its last value).
async function runCurve(study: Study, curve: readonly number[]): Promise<number | null> {
  const trial = study.ask();
  trial.suggestFloat('x', 0, 1);
  for (let step = 0; step < curve.length; step++) {
    trial.report(curve[step]!, step);
    if (trial.shouldPrune()) {
      await study.tell(trial, { state: 'pruned' });
      return step;
    }
  }
  await study.tell(trial, curve.at(-1)!);
  return null;
}

const study = (pruner: Pruner, direction: 'minimize' | 'maximize' = 'minimize', name = 'study') =>
  createStudy({ name, pruner, direction, sampler: new RandomSampler({ seed: 0 }) });

test('MedianPruner: warm-up, interval and the median of complete trials at the step', async () => {
  for (const direction of ['minimize', 'maximize'] as const) {
    const sign = direction === 'minimize' ? 1 : -1;
    const s = await study(new MedianPruner({ nStartupTrials: 2, nWarmupSteps: 1, intervalSteps: 2 }), direction);
    const curve = (...v: number[]) => v.map((x) => x * sign);
    // Only one complete trial: startup, so nothing is pruned.
    assert.equal(await runCurve(s, curve(10, 8, 6, 5, 4, 3)), null);
    assert.equal(await runCurve(s, curve(12, 9, 7, 6, 5, 4)), null);
    // Step 0 is warm-up. Step 1 is a judging point (1 + 0·2); best so far min(11, 10) = 10 against
    // the median of [8, 9] = 8.5: worse, pruned at step 1.
    assert.equal(await runCurve(s, curve(11, 10, 9, 8, 7, 6)), 1, `${direction}: third trial`);
    // Step 1: best 7 < 8.5, kept. Step 2 is not a judging point (step 1 was judged). Step 3 is:
    // best so far 6 against the median of [5, 6] = 5.5: pruned at step 3.
    assert.equal(await runCurve(s, curve(9, 7, 8.6, 6, 1, 1)), 3, `${direction}: fourth trial`);
    assert.deepEqual(
      s.trials.map((t) => t.state),
      ['complete', 'complete', 'pruned', 'pruned'],
    );
    // A pruned trial keeps its last intermediate value as its value, as Optuna records it.
    assert.deepEqual(s.trials[3]!.values, [6 * sign]);
  }
});

test('PercentilePruner: the 25th percentile keeps what the median prunes; NaN curves are pruned', async () => {
  const s = await study(new PercentilePruner({ percentile: 25, nStartupTrials: 2, nWarmupSteps: 1 }));
  await runCurve(s, [10, 8, 6]);
  await runCurve(s, [12, 9, 7]);
  // Step 1: best 7.9 against the 25th percentile of [8, 9] = 8.25: kept; step 2: best 6.9 against
  // 6.25: pruned.
  assert.equal(await runCurve(s, [9, 7.9, 6.9]), 2);
  assert.equal(await runCurve(s, [NaN, NaN, NaN]), 1, 'all-NaN best value prunes at the first judged step');
});

test('SuccessiveHalvingPruner: rungs at 1, 2, 4, 8 with η = 2', async () => {
  const s = await study(new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 }));
  // Trial 0 is alone at every rung: the first η − 1 trials at a rung pass if best so far.
  assert.equal(await runCurve(s, [5, 4, 3, 2, 1, 1, 1, 1, 0.2]), null);
  // Rung 0 (step 1): competing [4, 5]; top ⌊2/2⌋ = 1 is 4; 5 > 4: pruned at step 1.
  assert.equal(await runCurve(s, [6, 5, 4, 3, 2, 2, 2, 2, 2]), 1);
  // Rung 0: [4, 5, 3], top 1 is 3: kept. Rung 1 (step 2): [3, 2.5], top 1 is 2.5: kept. Rung 2
  // (step 4): [1, 0.5]: kept. Rung 3 (step 8): [0.2, 0.1]: kept.
  assert.equal(await runCurve(s, [6, 3, 2.5, 2.4, 0.5, 0.4, 0.3, 0.2, 0.1]), null);
  // Rung 0: [4, 5, 3, 3.5], top ⌊4/2⌋ = 2 are 3, 3.5: kept. Rung 1: [3, 2.5, 3.2], top ⌊3/2⌋ = 1
  // is 2.5: pruned at step 2.
  assert.equal(await runCurve(s, [6, 3.5, 3.2, 3, 3, 3, 3, 3, 3]), 2);
  const t3 = s.trials[3]!;
  assert.deepEqual([t3.systemAttrs.completed_rung_0, t3.systemAttrs.completed_rung_1], [3.5, 3.2]);
});

test('SuccessiveHalvingPruner: minEarlyStoppingRate moves the first rung; auto minResource waits for a complete trial', async () => {
  const s = await study(new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2, minEarlyStoppingRate: 2 }));
  await runCurve(s, [1, 1, 1, 1, 1]);
  // First rung at 1·2² = 4: a far worse curve survives steps 0-3 and is pruned at step 4.
  assert.equal(await runCurve(s, [9, 9, 9, 9, 9]), 4);
  const auto = await study(new SuccessiveHalvingPruner({ reductionFactor: 2 }));
  // No complete trial yet: min resource unknown, nothing pruned.
  assert.equal(await runCurve(auto, [5, 5, 5]), null);
  // Longest complete trial ended at step 2: min resource max(1, ⌊2/100⌋) = 1. Trial 0 recorded
  // no rung (it ran before the resource was known), so trial 1 is alone at rung 0 and passes.
  assert.equal(await runCurve(auto, [9, 9, 9]), null);
  // Rung 0: competing [9, 10], top ⌊2/2⌋ = 1 is 9: pruned at step 1.
  assert.equal(await runCurve(auto, [10, 10, 10]), 1);
});

test('HyperbandPruner: crc32 bracket assignment as Optuna computes it', async () => {
  assert.equal(crc32('123456789'), 0xcbf43926, 'the CRC-32 check value');
  assert.equal(crc32(''), 0);
  assert.equal(crc32('hb_17'), zlibCrc32('hb_17'));
  // R = 9, r = 1, η = 3: brackets s = 0, 1, 2 (1·3² = 9 <= 9); budgets ⌈3·3^(2−b)/(3−b)⌉ = 9, 5, 3.
  const hb = new HyperbandPruner({ minResource: 1, maxResource: 9, reductionFactor: 3 });
  assert.equal(hb.brackets, 3);
  for (let k = 0; k < 60; k++) {
    const h = zlibCrc32(`hb_${k}`) % 17;
    assert.equal(hb.bracketOf('hb', k), h < 9 ? 0 : h < 14 ? 1 : 2, `trial ${k}`);
  }
  // Exact powers keep their bracket: R/r = 1000 with η = 10 has 4 brackets.
  assert.equal(new HyperbandPruner({ minResource: 1, maxResource: 1000, reductionFactor: 10 }).brackets, 4);
});

test('HyperbandPruner: trials compete only inside their bracket, from its first rung', async () => {
  const hb = new HyperbandPruner({ minResource: 1, maxResource: 9, reductionFactor: 3 });
  const s = await study(hb, 'minimize', 'hb');
  const good = [5, 1, 1, 1, 1];
  const bad = [5, 4, 4, 4, 4];
  const outcome = new Map<number, number | null>();
  const seen = [0, 0, 0];
  for (let k = 0; seen.some((c) => c < 2); k++) {
    const b = hb.bracketOf('hb', k);
    if (seen[b]! >= 2) {
      // Filler trials complete without reports, so they hold no rung values.
      await s.tell(s.ask(), 0);
      continue;
    }
    outcome.set(k, await runCurve(s, seen[b] === 0 ? good : bad));
    seen[b]!++;
  }
  const byBracket = (b: number) => [...outcome.entries()].filter(([k]) => hb.bracketOf('hb', k) === b).map(([, v]) => v);
  // Bracket 0 (first rung at step 1): the bad curve meets the good one there and is pruned
  // (2 competitors, ⌊2/3⌋ − 1 = −1 → compare with the best). Bracket 1 (first rung at step 3)
  // prunes the bad curve at step 3. Bracket 2's first rung is step 9: nobody gets there.
  assert.deepEqual(byBracket(0), [null, 1]);
  assert.deepEqual(byBracket(1), [null, 3]);
  assert.deepEqual(byBracket(2), [null, null]);
});

test('NopPruner never prunes; pruning a multi-objective study is an error', async () => {
  const s = await study(new NopPruner());
  assert.equal(await runCurve(s, [1, 2, 3]), null);
  const mo = await createStudy({ directions: ['minimize', 'maximize'] });
  const t = mo.ask();
  t.report(1, 0);
  assert.throws(() => t.shouldPrune(), /pruning is for single-objective studies; this one has 2 objectives/);
});

test('pruner options are checked', () => {
  assert.throws(() => new SuccessiveHalvingPruner({ reductionFactor: 1 }), /reductionFactor must be an integer in \[2,/);
  assert.throws(() => new HyperbandPruner({ minResource: 5, maxResource: 3 }), /maxResource must be >= minResource, got 3 < 5/);
  assert.throws(() => new MedianPruner({ nWarmup: 3 } as never), /unknown option 'nWarmup'/);
  assert.throws(() => new PercentilePruner({ percentile: 120 }), /percentile must be a finite number in \[0, 100\], got 120/);
  assert.throws(() => new SuccessiveHalvingPruner({ bootstrapCount: 2 }), /bootstrapCount > 0 needs an explicit minResource/);
});
