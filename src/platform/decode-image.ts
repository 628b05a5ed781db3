// Decoding PNG and JPEG files to RGBA pixels the way the running platform can: a browser or web
// worker draws an ImageBitmap onto an OffscreenCanvas; Node, Deno and Bun use the npm decoders
// `pngjs` and `jpeg-js` (optional peer dependencies, imported on first use, with an error saying how
// to install them when absent).

/** Decoded pixels: width × height RGBA bytes, row-major. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** Image formats `decodeImage` reads. */
export type ImageFormat = 'png' | 'jpeg';

/** The format of a file name by its extension (.png, .jpg, .jpeg, any case), or undefined. */
export function imageFormatOf(name: string): ImageFormat | undefined {
  const ext = /\.([a-z]+)$/i.exec(name)?.[1]?.toLowerCase();
  return ext === 'png' ? 'png' : ext === 'jpg' || ext === 'jpeg' ? 'jpeg' : undefined;
}

/** Decodes one PNG or JPEG file; `name` only labels errors. */
export async function decodeImage(bytes: Uint8Array, format: ImageFormat, name: string): Promise<RgbaImage> {
  const g = globalThis as { createImageBitmap?: (b: Blob) => Promise<ImageBitmap>; OffscreenCanvas?: typeof OffscreenCanvas };
  try {
    if (typeof g.createImageBitmap === 'function' && typeof g.OffscreenCanvas === 'function') {
      const bitmap = await g.createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: `image/${format}` }));
      const canvas = new g.OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      bitmap.close();
      const { width, height, data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      return { width, height, data };
    }
    if (format === 'png') {
      const { PNG } = (await optional('pngjs')) as typeof import('pngjs');
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    const jpeg = (await optional('jpeg-js')) as typeof import('jpeg-js');
    const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: decoded.width, height: decoded.height, data: decoded.data };
  } catch (error) {
    if ((error as Error).name === 'MissingDependencyError') throw error;
    throw new Error(`cannot decode ${name} as ${format.toUpperCase()}: ${(error as Error).message}`);
  }
}

const loaded = new Map<string, Promise<unknown>>();

function optional(name: 'pngjs' | 'jpeg-js'): Promise<unknown> {
  let p = loaded.get(name);
  if (!p) {
    p = import(name).then(
      (m: { default?: unknown }) => m.default ?? m,
      () => {
        const error = new Error(`decoding images needs the optional package '${name}': npm install ${name}`);
        error.name = 'MissingDependencyError';
        throw error;
      },
    );
    loaded.set(name, p);
  }
  return p;
}
