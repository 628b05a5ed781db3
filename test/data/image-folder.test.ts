// Images as data: Dataset rows with a shape, mnist as [1, 28, 28], and the image-folder loader
// (decoding, compositing, grey/RGB, bilinear resize) against values computed by hand and against
// the decoder's own pixels, on the small folder of generated images in test/fixtures/images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { Dataset, imageFolder, mnist } from '../../src/index.ts';
import { resizeImage } from '../../src/data/image-folder.ts';

const FOLDER = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const rgba = (width: number, height: number, px: number[]) => ({ width, height, data: Uint8Array.from(px) });

test('Dataset rows carry a shape: checked against numFeatures, kept by subset, [d] by default', () => {
  const ds = new Dataset({ features: new Float32Array(24), shape: [2, 3, 2], labels: new Int32Array(2) });
  assert.deepEqual(ds.shape, [2, 3, 2]);
  assert.equal(ds.numFeatures, 12);
  assert.deepEqual(ds.subset([1, 0, 1]).shape, [2, 3, 2]);
  assert.deepEqual(new Dataset({ features: new Float32Array(4), numFeatures: 2, labels: new Int32Array(2) }).shape, [2]);
  assert.throws(
    () => new Dataset({ features: new Float32Array(24), numFeatures: 12, shape: [2, 3, 3], labels: new Int32Array(2) }),
    /shape \[2, 3, 3\] holds 18 values per row, numFeatures is 12/,
  );
  assert.throws(
    () => new Dataset({ features: new Float32Array(4), shape: [2, 0], labels: new Int32Array(2) }),
    /shape\[1\] must be a positive integer, got 0/,
  );
});

test('mnist({ image: true }) has rows [1, 28, 28] holding the same values as the flat rows', async () => {
  const flat = await mnist({ perDigit: 2 }),
    image = await mnist({ perDigit: 2, image: true });
  assert.deepEqual(flat.shape, [784]);
  assert.deepEqual(image.shape, [1, 28, 28]);
  assert.deepEqual(image.features, flat.features);
});

test('resizeImage: identity, a 2x2 average, bilinear weights, alpha over black, grey luma and RGB planes', () => {
  // 2x2 grey values 0, 51, 102, 255 (opaque).
  const img = rgba(2, 2, [0, 0, 0, 255, 51, 51, 51, 255, 102, 102, 102, 255, 255, 255, 255, 255]);
  assert.deepEqual(Array.from(resizeImage(img, 1, 2, 2)), [0, 51 / 255, 102 / 255, 1].map(Math.fround));
  // One output pixel: its centre (0.5, 0.5) of the 2x2 image sits between all four at weight 1/4.
  assert.deepEqual(Array.from(resizeImage(img, 1, 1, 1)), [Math.fround((0 + 51 + 102 + 255) / 255 / 4)]);
  // 1x2 → 1x4: centres at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1) of the input.
  const row = rgba(2, 1, [0, 0, 0, 255, 200, 200, 200, 255]);
  assert.deepEqual(Array.from(resizeImage(row, 1, 1, 4)), [0, (0.25 * 200) / 255, (0.75 * 200) / 255, 200 / 255].map(Math.fround));
  // Transparent white is black; half-transparent red is half red; luma weights for grey.
  const px = rgba(2, 1, [255, 255, 255, 0, 255, 0, 0, 255]);
  assert.deepEqual(Array.from(resizeImage(px, 1, 1, 2)), [0, Math.fround(0.299)]);
  assert.deepEqual(Array.from(resizeImage(px, 3, 1, 2)), [0, 1, 0, 0, 0, 0]);
  assert.throws(() => resizeImage(rgba(2, 2, [0, 0, 0]), 1, 1, 1), /2×2 must hold 16 RGBA bytes/);
});

test('imageFolder reads one class per sub-folder, PNG and JPEG, sorted, resized to [c, h, w]', async () => {
  const ds = await imageFolder(FOLDER, { size: 8 });
  assert.deepEqual(ds.classNames, ['bar', 'ring']);
  assert.deepEqual(ds.shape, [1, 8, 8]);
  assert.deepEqual(Array.from(ds.labels), [0, 0, 0, 0, 1, 1, 1, 1]);
  for (const v of ds.features) assert.ok(v >= 0 && v <= 1);
  // At its own size, the first bar is the decoder's pixels / 255, exactly.
  const png = PNG.sync.read(await readFile(`${FOLDER}bar/0.png`));
  const same = await imageFolder(FOLDER, { size: [png.height, png.width], channels: 3 });
  assert.deepEqual(same.shape, [3, 12, 12]);
  const red = Array.from({ length: 144 }, (_, i) => Math.fround(png.data[i * 4]! / 255));
  assert.deepEqual(Array.from(same.features.subarray(0, 144)), red);
  // The same files given as bytes (as a browser's file input gives them) load the same rows.
  const files = await Promise.all(
    ['bar/0.png', 'bar/1.png', 'ring/0.png', 'ring/3.jpg'].map(async (path) => ({
      path,
      bytes: new Uint8Array(await readFile(FOLDER + path)),
    })),
  );
  const fromBytes = await imageFolder(files, { size: 8 });
  assert.deepEqual(fromBytes.features.subarray(0, 64), ds.features.subarray(0, 64));
  assert.deepEqual(fromBytes.features.subarray(3 * 64), ds.features.subarray(7 * 64));
});

test('imageFolder names the bad file, folder or option', async () => {
  await assert.rejects(imageFolder(FOLDER + 'bar', { size: 8 }), /0\.png is not class\/file/);
  await assert.rejects(imageFolder([{ path: 'a/x.gif', bytes: new Uint8Array(1) }], { size: 8 }), /a\/x\.gif is neither \.png nor \.jpg/);
  await assert.rejects(
    imageFolder(
      [
        { path: 'a/x.png', bytes: new Uint8Array(4) },
        { path: 'b/y.png', bytes: new Uint8Array(4) },
      ],
      { size: 8 },
    ),
    /cannot decode a\/x\.png as PNG/,
  );
  await assert.rejects(imageFolder([{ path: 'a/x.png', bytes: new Uint8Array(4) }], { size: 8 }), /found 1 class folder/);
  await assert.rejects(imageFolder(FOLDER, { size: 0 }), /size \(height\)/);
  await assert.rejects(imageFolder(FOLDER, { size: 8, channels: 2 as 1 }), /channels must be 1 or 3, got 2/);
  await assert.rejects(imageFolder(FOLDER + 'nope', { size: 8 }), /cannot read the folder/);
});
