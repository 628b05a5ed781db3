// A data set from a folder of PNG and JPEG images, one sub-folder per class (the folder names,
// sorted, are the class names): every image is decoded (src/platform/decode-image.ts), composited
// over black, turned grey or RGB, resized to a fixed [height, width] by bilinear interpolation
// and scaled to [0, 1], as rows of shape [channels, height, width].
import { checkInteger, checkKnownKeys } from '../core/errors.ts';
import { decodeImage, imageFormatOf, type RgbaImage } from '../platform/decode-image.ts';
import { Dataset } from './dataset.ts';

/** Options of `imageFolder`. */
export interface ImageFolderOptions {
  /** Height and width every image is resized to: one number for a square. */
  size: number | readonly [number, number];
  /** 1 (grey, default) or 3 (RGB). */
  channels?: 1 | 3;
}

/** One image given as bytes (browsers: from the files of an `<input webkitdirectory>`), with its
 *  path `class/name.png` relative to the folder. */
export interface ImageFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

const KEYS = ['size', 'channels'] as const;
const WHERE = 'imageFolder';

/**
 * Reads a folder of images with one sub-folder per class (Node, Deno, Bun), or the files of one
 * (every runtime). Images are ordered by class, then by file name.
 *
 * @example
 * const ds = await imageFolder('digits/', { size: 28 }); // ds.shape: [1, 28, 28]
 */
export async function imageFolder(source: string | readonly ImageFile[], options: ImageFolderOptions): Promise<Dataset> {
  checkKnownKeys(WHERE, options, KEYS);
  const [height, width] = typeof options.size === 'number' ? [options.size, options.size] : (options.size ?? []);
  checkInteger(WHERE, 'size (height)', height, 1, 4096);
  checkInteger(WHERE, 'size (width)', width, 1, 4096);
  const channels = options.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new RangeError(`${WHERE}: channels must be 1 or 3, got ${String(channels)}`);
  const files = typeof source === 'string' ? await listFolder(source) : checkFiles(source);
  const byClass = new Map<string, { name: string; bytes: () => Promise<Uint8Array> }[]>();
  for (const f of files) {
    const parts = f.path.split('/').filter((p) => p !== '');
    if (parts.length !== 2) throw new RangeError(`${WHERE}: ${f.path} is not class/file: images must sit one folder deep`);
    const [cls, name] = parts as [string, string];
    if (!imageFormatOf(name)) throw new RangeError(`${WHERE}: ${f.path} is neither .png nor .jpg/.jpeg`);
    if (!byClass.has(cls)) byClass.set(cls, []);
    byClass.get(cls)!.push({ name: f.path, bytes: f.bytes });
  }
  const classNames = [...byClass.keys()].sort();
  if (classNames.length < 2) throw new RangeError(`${WHERE}: found ${classNames.length} class folder(s) with images; need at least 2`);
  const size = channels * height * width;
  const total = classNames.reduce((n, c) => n + byClass.get(c)!.length, 0);
  const features = new Float32Array(total * size);
  const labels = new Int32Array(total);
  let row = 0;
  for (const [label, cls] of classNames.entries()) {
    const list = byClass.get(cls)!.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const f of list) {
      const image = await decodeImage(await f.bytes(), imageFormatOf(f.name)!, f.name);
      features.set(resizeImage(image, channels, height, width), row * size);
      labels[row++] = label;
    }
  }
  return new Dataset({ features, shape: [channels, height, width], labels, classNames });
}

/** [channels, height, width] values in [0, 1] from RGBA pixels: alpha composites over black,
 *  grey is the luma 0.299 R + 0.587 G + 0.114 B, and the resize is bilinear with pixel centres
 *  at half-integers (as PIL and TensorFlow's half_pixel_centers), in f64 rounded once. */
export function resizeImage(image: RgbaImage, channels: 1 | 3, height: number, width: number): Float32Array {
  const { width: W, height: H, data } = image;
  if (W < 1 || H < 1 || data.length !== W * H * 4)
    throw new RangeError(`${WHERE}: an image of ${W}×${H} must hold ${W * H * 4} RGBA bytes`);
  const plane = new Float64Array(W * H * channels);
  for (let i = 0; i < W * H; i++) {
    const a = data[i * 4 + 3]! / 255;
    const r = (data[i * 4]! / 255) * a,
      g = (data[i * 4 + 1]! / 255) * a,
      b = (data[i * 4 + 2]! / 255) * a;
    if (channels === 1) plane[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    else {
      plane[i] = r;
      plane[W * H + i] = g;
      plane[2 * W * H + i] = b;
    }
  }
  const out = new Float32Array(channels * height * width);
  const axis = (o: number, inSize: number, outSize: number): [number, number, number] => {
    const s = Math.min(Math.max((o + 0.5) * (inSize / outSize) - 0.5, 0), inSize - 1);
    const i0 = Math.floor(s);
    return [i0, Math.min(i0 + 1, inSize - 1), s - i0];
  };
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = axis(y, H, height);
    for (let x = 0; x < width; x++) {
      const [x0, x1, fx] = axis(x, W, width);
      for (let c = 0; c < channels; c++) {
        const p = plane.subarray(c * W * H);
        const top = p[y0 * W + x0]! * (1 - fx) + p[y0 * W + x1]! * fx;
        const bottom = p[y1 * W + x0]! * (1 - fx) + p[y1 * W + x1]! * fx;
        out[(c * height + y) * width + x] = Math.min(1, Math.max(0, top * (1 - fy) + bottom * fy));
      }
    }
  }
  return out;
}

function checkFiles(files: readonly ImageFile[]): { path: string; bytes: () => Promise<Uint8Array> }[] {
  if (!Array.isArray(files)) throw new TypeError(`${WHERE}: source must be a folder path or an array of { path, bytes }`);
  return files.map((f, i) => {
    if (typeof f?.path !== 'string' || !(f.bytes instanceof Uint8Array))
      throw new TypeError(`${WHERE}: source[${i}] must be { path: string, bytes: Uint8Array }`);
    return { path: f.path, bytes: async () => f.bytes };
  });
}

async function listFolder(root: string): Promise<{ path: string; bytes: () => Promise<Uint8Array> }[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  let classes;
  try {
    classes = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new Error(`${WHERE}: cannot read the folder ${root}: ${(error as Error).message}`);
  }
  const out: { path: string; bytes: () => Promise<Uint8Array> }[] = [];
  for (const dir of classes) {
    if (dir.name.startsWith('.')) continue;
    if (!dir.isDirectory()) {
      // An image beside the class folders is an error (below), anything else is ignored.
      if (dir.isFile() && imageFormatOf(dir.name)) out.push({ path: dir.name, bytes: async () => new Uint8Array() });
      continue;
    }
    for (const file of await readdir(join(root, dir.name), { withFileTypes: true })) {
      if (!file.isFile() || file.name.startsWith('.')) continue;
      const path = join(root, dir.name, file.name);
      out.push({ path: `${dir.name}/${file.name}`, bytes: async () => new Uint8Array(await readFile(path)) });
    }
  }
  return out;
}
