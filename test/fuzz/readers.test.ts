// Property-based fuzzing of the readers that take bytes from outside: arbitrary (and mutated
// valid) input never crashes with anything but kiln's own error types, never traps and never
// hangs (each run is bounded by the test's timeout); valid files round-trip. Run counts are
// modest so the suite stays fast; the seed is fixed so a failure reproduces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvError, decodeCsvBytes, parseCsv } from '../../src/data/csv.ts';
import { parseTable } from '../../src/data/table.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from '../../src/io/safetensors.ts';
import { modelFromBytes, modelToBytes } from '../../src/io/model-file.ts';
import { quantizedModelFromBytes } from '../../src/compress/quant/file.ts';
import { JournalError, JournalFileStorage } from '../../src/search/storage/journal-file.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { OnnxError } from '../../src/onnx/errors.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';

const params = (numRuns: number) => ({ numRuns, seed: 17, endOnFailure: true });

// What a reader may throw: its own error type; TypeError/RangeError only from argument checks.
function only(allowed: (abstract new (...a: never[]) => Error)[], run: () => unknown): void {
  try {
    const out = run() as { dispose?: () => void } | undefined;
    out?.dispose?.();
  } catch (error) {
    if (!allowed.some((t) => error instanceof t)) throw new Error(`unexpected ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
}
async function onlyAsync(allowed: (abstract new (...a: never[]) => Error)[], run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!allowed.some((t) => error instanceof t)) throw new Error(`unexpected ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
}

// Valid bytes with a few bytes overwritten: reaches deeper than pure noise.
const mutated = (valid: Uint8Array) =>
  fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => {
    const b = new Uint8Array(valid); // a copy (slice() of a Node Buffer would share memory)
    for (const [at, v] of edits) b[at] = v;
    return b;
  });

const model = new Sequential({ inputs: 3, layers: [dense(4, 'relu'), dense(2)], seed: 5 });
const modelBytes = modelToBytes(model);

test('CSV: arbitrary text and bytes give a Dataset or a CsvError', async () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      only([CsvError], () => parseCsv(text));
      only([CsvError], () => parseTable(text));
    }),
    params(300),
  );
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-z,.\n"-]{0,120}$/), (text) => {
      only([CsvError, TypeError], () => parseCsv(text));
    }),
    params(300),
  );
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
      await onlyAsync([CsvError], () => decodeCsvBytes(bytes));
    }),
    params(200),
  );
});

test('CSV: numeric tables round-trip through text', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: 2, maxLength: 60 }),
      (width, values) => {
        const rows = Math.floor(values.length / width);
        fc.pre(rows >= 2);
        const header = [...Array.from({ length: width }, (_, j) => `f${j}`), 'y'];
        const lines = Array.from({ length: rows }, (_, i) => [...values.slice(i * width, (i + 1) * width).map(String), i % 2 ? 'a' : 'b']);
        const ds = parseCsv([header, ...lines].map((r) => r.join(',')).join('\n'), { label: 'y' });
        assert.deepEqual(Array.from(ds.features), Array.from(Float32Array.from(values.slice(0, rows * width))));
        assert.equal(ds.numRows, rows);
      },
    ),
    params(100),
  );
});

test('safetensors and model files: arbitrary and mutated bytes give a ModelFileError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      only([ModelFileError], () => decodeSafetensors(bytes));
      only([ModelFileError], () => modelFromBytes(bytes));
      only([ModelFileError], () => quantizedModelFromBytes(bytes));
    }),
    params(300),
  );
  fc.assert(
    fc.property(mutated(modelBytes), (bytes) => {
      only([ModelFileError], () => decodeSafetensors(bytes));
      // A change in the header may still describe a valid model; any change to data is caught.
      only([ModelFileError], () => modelFromBytes(bytes));
    }),
    params(300),
  );
});

test('safetensors: arbitrary tensors round-trip byte for byte', () => {
  const tensor = fc
    .tuple(fc.constantFrom('F32', 'I32', 'U8', 'I8', 'F64', 'U16'), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
    .chain(([dtype, shape]) => {
      const size = shape.reduce((a, b) => a * b, 1) * { F32: 4, I32: 4, U8: 1, I8: 1, F64: 8, U16: 2 }[dtype]!;
      return fc.uint8Array({ minLength: size, maxLength: size }).map((data) => ({ dtype, shape, data }) as const);
    });
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__metadata__'),
        tensor,
        { maxKeys: 4 },
      ),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      (tensors, metadata) => {
        const bytes = encodeSafetensors(tensors as never, metadata);
        const back = decodeSafetensors(bytes);
        assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
        for (const [name, t] of Object.entries(tensors)) {
          const d = back.tensors[name]!;
          assert.deepEqual([d.dtype, d.shape], [t.dtype, t.shape]);
          assert.deepEqual(new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength), t.data);
        }
        assert.deepEqual(back.metadata, { ...metadata });
        assert.deepEqual(encodeSafetensors(back.tensors as never, back.metadata), bytes);
      },
    ),
    params(150),
  );
  const loaded = modelFromBytes(modelBytes);
  assert.deepEqual(modelToBytes(loaded), modelBytes);
  loaded.dispose();
});

test('journal files: arbitrary lines give a JournalError naming the line (or load)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-journal-'));
  let n = 0;
  const line = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.json({ maxDepth: 2 }),
    fc
      .record({
        op: fc.constantFrom('study', 'trial', 'param', 'finish', 'attr', 'zap'),
        study: fc.constantFrom('s', ''),
        number: fc.integer({ min: -1, max: 3 }),
      })
      .map((o) => JSON.stringify(o)),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 6 }), async (lines) => {
      const path = join(dir, `j${n++}.jsonl`);
      writeFileSync(path, lines.map((l) => l.replace(/\n/g, ' ')).join('\n') + '\n');
      const storage = new JournalFileStorage(path, { onWarning: () => {} });
      await onlyAsync([JournalError, RangeError, TypeError], async () => {
        await storage.load();
        await storage.studies();
      });
      storage.close();
    }),
    params(150),
  );
});

test('ONNX: arbitrary and mutated bytes give an OnnxError; an exported model round-trips', () => {
  const onnx = new Uint8Array(exportOnnx(model));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated(onnx)), (bytes) => {
      only([OnnxError], () => importOnnx(bytes));
    }),
    params(300),
  );
  const back = importOnnx(onnx);
  const x = Float32Array.of(0.5, -1, 2, 1, 1, 1);
  assert.deepEqual(back.predict(x), model.predict(x));
  back.dispose();
});
