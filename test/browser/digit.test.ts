// The digit pad's preprocessing (examples/browser/digit.ts) on hand-made drawings whose MNIST
// image can be worked out by hand: the ink's box scaled so its longer side is 20 pixels with area
// averaging, then shifted so the centre of mass sits on the image's centre.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centreOfMass, inkBox, resample, SIDE, toMnist, type Drawing } from '../../examples/browser/digit.ts';

function drawing(width: number, height: number, rects: [number, number, number, number][]): Drawing {
  const ink = new Float32Array(width * height);
  for (const [x0, y0, x1, y1] of rects) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ink[y * width + x] = 1;
  return { width, height, ink };
}

/** The inked pixels of a 28×28 image as "x,y" strings. */
const inked = (img: Float32Array) =>
  Array.from(img)
    .map((v, i) => (v > 0 ? `${i % SIDE},${Math.floor(i / SIDE)}` : ''))
    .filter(Boolean);

test('a vertical bar: 20 pixels tall, 4 wide, centred by its mass', () => {
  // Box 40×200 at (30, 40): scale 0.1 → 4×20, all ink; mass centre (2, 10) → shift (12, 4).
  const img = toMnist(drawing(280, 280, [[30, 40, 70, 240]]))!;
  const want: string[] = [];
  for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) want.push(`${x},${y}`);
  assert.deepEqual(inked(img).sort(), want.sort());
  assert.ok(Array.from(img).every((v) => v === 0 || v === 1));
});

test('two corner squares: the mass centre, not the box, is centred', () => {
  // Box 100×100 (squares 10×10 at its corners): scale 0.2 → 20×20 with 2×2 ink at (0,0) and
  // (18,18); mass centre (10, 10) → shift (4, 4).
  const img = toMnist(
    drawing(280, 280, [
      [50, 60, 60, 70],
      [140, 150, 150, 160],
    ]),
  )!;
  assert.deepEqual(inked(img).sort(), ['4,4', '5,4', '4,5', '5,5', '22,22', '23,22', '22,23', '23,23'].sort());
});

test('area averaging weighs partly covered pixels', () => {
  // 3 source pixels into 2: each output covers 1.5 pixels; [1, 0, 1] → [(1 + 0.5·0)/1.5, (0.5·0 + 1)/1.5].
  const d: Drawing = { width: 3, height: 1, ink: Float32Array.from([1, 0, 1]) };
  const out = resample(d, [0, 0, 3, 1], 2, 1);
  assert.ok(Math.abs(out[0]! - 1 / 1.5) < 1e-6 && Math.abs(out[1]! - 1 / 1.5) < 1e-6, `${out}`);
  const d2: Drawing = { width: 3, height: 1, ink: Float32Array.from([0.3, 0.6, 0.9]) };
  // [0, 1.5): 0.3 + 0.5·0.6 = 0.6 → 0.4; [1.5, 3): 0.5·0.6 + 0.9 = 1.2 → 0.8.
  const o2 = resample(d2, [0, 0, 3, 1], 2, 1);
  assert.ok(Math.abs(o2[0]! - 0.4) < 1e-6 && Math.abs(o2[1]! - 0.8) < 1e-6, `${o2}`);
});

test('blank drawings, boxes and centres of mass', () => {
  assert.equal(toMnist(drawing(10, 10, [])), null);
  assert.equal(inkBox(drawing(10, 10, [])), null);
  assert.deepEqual(inkBox(drawing(10, 10, [[2, 3, 5, 4]])), [2, 3, 5, 4]);
  assert.deepEqual(centreOfMass(Float32Array.from([1, 0, 0, 1]), 2, 2), [1, 1]);
  assert.deepEqual(centreOfMass(Float32Array.from([0, 0, 0, 2]), 2, 2), [1.5, 1.5]);
});
