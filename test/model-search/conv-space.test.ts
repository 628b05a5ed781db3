// The convolutional search space: its names map onto convolution blocks, image rows select it by
// default in searchModel, and the chosen model is a CNN of the sampled shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { imageFolder } from '../../src/data/image-folder.ts';
import { searchModel } from '../../src/model-search/search-model.ts';
import { mlpLayers, mlpSettings } from '../../src/model-search/settings.ts';
import { CONV_SPACE, MLP_SPACE, defaultSpace, parseMlpSpace } from '../../src/model-search/space.ts';

const FOLDER = fileURLToPath(new URL('../fixtures/images/', import.meta.url));

test('conv space names become convolution blocks, pooling while the image allows, then the dense head', () => {
  const s = mlpSettings({ conv_blocks: 2, filters_0: 8, filters_1: 16, kernel_size: 5, pooling: 'avg', batch_norm: true, units: 32 });
  assert.deepEqual(s.convBlocks, [8, 16]);
  assert.equal(s.kernelSize, 5);
  assert.deepEqual(s.layers, [32]);
  const layers = mlpLayers(s, 3, [1, 3, 3]).map((l) => l.type);
  // 3x3 pools to 1x1 after the first block; the second block has nothing left to pool.
  assert.deepEqual(layers, ['conv2d', 'batchNorm', 'avgPool2d', 'conv2d', 'batchNorm', 'flatten', 'dense', 'dense']);
  assert.deepEqual(
    mlpLayers(mlpSettings({ filters: 4 }, { ...s, batchNorm: false }), 2, [1, 8, 8]).map((l) => l.type),
    ['conv2d', 'avgPool2d', 'conv2d', 'avgPool2d', 'flatten', 'dense', 'dense'],
  );
  assert.throws(() => mlpLayers(s, 3, [9]), /convolution blocks need rows of shape \[channels, height, width\], got \[9\]/);
  assert.equal(parseMlpSpace(CONV_SPACE), CONV_SPACE);
  assert.equal(defaultSpace([1, 28, 28]), CONV_SPACE);
  assert.equal(defaultSpace([784]), MLP_SPACE);
});

test('searchModel on image rows searches CNNs by default and returns a trained CNN', async () => {
  const data = await imageFolder(FOLDER, { size: 8 });
  const result = await searchModel(data, { validation: data, trials: 2, epochs: 1, seed: 3 });
  assert.ok('conv_blocks' in result.best.params, `params ${JSON.stringify(result.best.params)}`);
  const convs = result.model.layers.filter((l) => l.type === 'conv2d').length;
  assert.equal(convs, result.best.params.conv_blocks);
  assert.deepEqual([...result.model.inputShape], [1, 8, 8]);
  assert.equal(result.model.predict(data.features).length, data.numRows * 2);
  result.model.dispose();
  // Flat rows with a conv space are refused by name.
  const flat = data.subset([0, 1, 4, 5]);
  const flatRows = new (flat.constructor as typeof import('../../src/data/dataset.ts').Dataset)({
    features: flat.features,
    numFeatures: 64,
    labels: flat.labels,
    classNames: flat.classNames,
  });
  await assert.rejects(
    searchModel(flatRows, { validation: flatRows, trials: 1, epochs: 1, space: { conv_blocks: { int: [1, 2] } } }),
    /no trial completed|convolution blocks need rows/,
  );
});
