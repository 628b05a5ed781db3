// Shared by the ONNX tests: seeded models and rows, and the onnx package's checker when the
// machine has it (Debian's python3-onnx).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs onnx.checker.check_model(full_check=True) on the files; undefined when python3-onnx is
 *  absent (the test then skips), else the checker's error text ('' when every file passes). */
export function onnxChecker(models: Record<string, Uint8Array>): string | undefined {
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0);
  if (!python) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-'));
  try {
    const paths = Object.entries(models).map(([name, bytes]) => {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, bytes);
      return path;
    });
    const script = 'import onnx, sys\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\n';
    const run = spawnSync(python, ['-c', script, ...paths], { encoding: 'utf8' });
    return run.status === 0 ? '' : run.stderr.trim().split('\n').slice(-3).join(' ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Share of rows whose argmax agrees. */
export function classAgreement(a: Float32Array, b: Float32Array, width: number): number {
  let same = 0;
  const rows = a.length / width;
  const argmax = (x: Float32Array, r: number) => {
    let best = 0;
    for (let j = 1; j < width; j++) if (x[r * width + j]! > x[r * width + best]!) best = j;
    return best;
  };
  for (let r = 0; r < rows; r++) if (argmax(a, r) === argmax(b, r)) same++;
  return same / rows;
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
