// A drawing turned into an MNIST-style input, as the MNIST digits were made: the ink's bounding
// box scaled (keeping its aspect ratio) to fit a 20×20 box with area averaging, then placed in a
// 28×28 image so that its centre of mass falls on the centre pixel. Values in [0, 1], ink 1, as
// the mnist data set stores them. Pure: the page and the tests call it on plain arrays.

export const SIDE = 28;
const BOX = 20;

/** Ink in [0, 1] per pixel of a width × height drawing, row-major. */
export interface Drawing {
  width: number;
  height: number;
  ink: Float32Array;
}

/** The inked pixels' bounding box [x0, y0, x1, y1) (ink above `threshold`), or null when blank. */
export function inkBox(d: Drawing, threshold = 0.05): [number, number, number, number] | null {
  let x0 = d.width,
    y0 = d.height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < d.height; y++)
    for (let x = 0; x < d.width; x++)
      if (d.ink[y * d.width + x]! > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

/** Area-averaged resampling of the box [x0, y0, x1, y1) of `d` into w × h pixels: each output
 *  pixel is the mean ink over the part of the drawing it covers (fractional pixels weighted). */
export function resample(d: Drawing, box: readonly [number, number, number, number], w: number, h: number): Float32Array {
  const [x0, y0, x1, y1] = box;
  const sx = (x1 - x0) / w,
    sy = (y1 - y0) / h;
  const out = new Float32Array(w * h);
  for (let j = 0; j < h; j++) {
    const top = y0 + j * sy,
      bottom = top + sy;
    for (let i = 0; i < w; i++) {
      const left = x0 + i * sx,
        right = left + sx;
      let sum = 0;
      for (let y = Math.floor(top); y < Math.ceil(bottom); y++) {
        const wy = Math.min(bottom, y + 1) - Math.max(top, y);
        for (let x = Math.floor(left); x < Math.ceil(right); x++) {
          const wx = Math.min(right, x + 1) - Math.max(left, x);
          sum += d.ink[y * d.width + x]! * wx * wy;
        }
      }
      out[j * w + i] = sum / (sx * sy);
    }
  }
  return out;
}

/** Centre of mass (x, y) of a w × h image, in pixel-centre coordinates. */
export function centreOfMass(img: Float32Array, w: number, h: number): [number, number] {
  let m = 0,
    mx = 0,
    my = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = img[y * w + x]!;
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  return m === 0 ? [w / 2, h / 2] : [mx / m, my / m];
}

/**
 * The 28×28 MNIST-style image of a drawing (row-major, 784 values in [0, 1]), or null when the
 * drawing is blank.
 */
export function toMnist(d: Drawing): Float32Array | null {
  const box = inkBox(d);
  if (!box) return null;
  const bw = box[2] - box[0],
    bh = box[3] - box[1];
  // The longer side becomes 20 pixels; a thin stroke (a "1") stays thin.
  const scale = BOX / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * scale)),
    h = Math.max(1, Math.round(bh * scale));
  const small = resample(d, box, w, h);
  const [cx, cy] = centreOfMass(small, w, h);
  // Whole-pixel shift putting the centre of mass on the image's centre, kept inside the image.
  const left = Math.min(SIDE - w, Math.max(0, Math.round(SIDE / 2 - cx)));
  const top = Math.min(SIDE - h, Math.max(0, Math.round(SIDE / 2 - cy)));
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(top + y) * SIDE + left + x] = Math.min(1, Math.max(0, small[y * w + x]!));
  return out;
}
