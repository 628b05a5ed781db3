// The pipeline on image rows: the search stage searches the convolutional space and yields a
// CNN, which teaches an MLP student that the prune and quantize stages then take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mnist } from '../../src/data/builtin.ts';
import { runPipeline } from '../../src/pipeline/pipeline.ts';

test('runPipeline on [1, 28, 28] digits: a CNN searched, distilled into an MLP, pruned and quantised', async () => {
  const data = await mnist({ perDigit: 12, image: true });
  const result = await runPipeline(data, {
    seed: 1,
    search: { trials: 1, epochs: 1 },
    distill: { epochs: 2 },
    prune: { steps: 1, fineTuneEpochs: 1 },
    latencyRepeats: 2,
  });
  const [search, distill, prune, quant] = result.stages;
  assert.deepEqual(
    result.stages.map((r) => r.stage),
    ['search', 'distill', 'prune', 'quantize'],
  );
  assert.match(search!.model, /^1x28x28-conv\d+-/);
  assert.match(distill!.model, /^784-\d+-10 f32/);
  assert.ok(prune!.nonZeros < distill!.nonZeros);
  assert.ok(quant!.bytes < prune!.bytes);
  assert.ok('conv_blocks' in result.trials[0]!.params);
});

test('runPipeline on [1, 28, 28] digits with an accuracy budget: the CNN is a candidate as it is, in int8 and without some of its filters', async () => {
  const data = await mnist({ perDigit: 12, image: true });
  const result = await runPipeline(data, {
    seed: 1,
    maxDrop: 0.05,
    search: { trials: 1, epochs: 1 },
    distill: { epochs: 1, widths: [16] },
    prune: { steps: 1, fineTuneEpochs: 1 },
    latencyRepeats: 2,
  });
  const names = result.compression!.candidates.map((c) => c.name);
  assert.ok(
    names.some((n) => /^1x28x28-conv\d+-.* f32$/.test(n)),
    names.join('; '),
  );
  assert.ok(
    names.some((n) => /^1x28x28-conv\d+-.*int8/.test(n)),
    names.join('; '),
  );
  assert.ok(
    names.some((n) => /^1x28x28-conv\d+-.* f32, structured/.test(n)),
    names.join('; '),
  );
  assert.ok(
    names.some((n) => /^784-\d+-10 f32, structured/.test(n)),
    names.join('; '),
  );
});
