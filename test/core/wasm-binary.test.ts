// The release core as shipped: walked section by section and instruction by instruction, so SIMD
// use is counted from the real opcodes (0xFD prefix + LEB128 sub-opcode), not from text. Binaryen's
// disassembly is the second opinion on the counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { disassemble } from '../runtime/binaryen.ts';

// 92 KiB: the SIMD 2×2 max pooling path and the int8 convolution's packing straight into the
// GEMM's pair layout (u8_im2row_packed, 1.6 KiB of unrolled transposes) took the last of 80.
const MAX_BYTES = 92 * 1024;
const F32X4_MUL = 0xe6;
const V128_LOAD = 0x00;
const RELAXED_FIRST = 0x100;
const RELAXED_LAST = 0x113;

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end = bytes.length,
  ) {}
  byte(): number {
    if (this.pos >= this.end) throw new RangeError(`read past the end at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      if (shift > 35) throw new RangeError(`LEB128 too long at byte ${this.pos}`);
    }
  }
  // Signed LEBs (i32/i64 constants, block types) are only skipped: their value is never needed.
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  skip(n: number): void {
    this.pos += n;
  }
  name(): string {
    const len = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return text;
  }
}

interface Section {
  id: number;
  start: number;
  end: number;
}

function sections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], 'wasm magic and version 1');
  r.skip(8);
  const out: Section[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    out.push({ id, start: r.pos, end: r.pos + size });
    r.skip(size);
  }
  assert.equal(r.pos, bytes.length, 'sections tile the file exactly');
  return out;
}

function imports(bytes: Uint8Array, s: Section): string[] {
  const r = new Reader(bytes, s.end);
  r.pos = s.start;
  const names: string[] = [];
  for (let n = r.u32(); n > 0; n--) {
    names.push(`${r.name()}.${r.name()}`);
    const kind = r.byte();
    if (kind === 0x00 || kind === 0x04) r.u32();
    else if (kind === 0x01) {
      r.byte();
      limits(r);
    } else if (kind === 0x02) limits(r);
    else if (kind === 0x03) {
      r.byte();
      r.byte();
    } else throw new Error(`unknown import kind ${kind}`);
  }
  return names;
}

function limits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index follows
  r.u32();
}

function blockType(r: Reader): void {
  const b = r.bytes[r.pos]!;
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) r.skip(1);
  else r.skipLeb();
}

function simdImmediates(r: Reader, op: number): void {
  if (op <= 0x0b || op === 0x5c || op === 0x5d) memarg(r);
  else if (op === 0x0c || op === 0x0d) r.skip(16);
  else if (op >= 0x15 && op <= 0x22) r.skip(1);
  else if (op >= 0x54 && op <= 0x5b) {
    memarg(r);
    r.skip(1);
  }
}

function miscImmediates(r: Reader, op: number): void {
  if (op <= 0x07) return;
  if (op === 0x08 || op === 0x0a || op === 0x0c || op === 0x0e) {
    r.u32();
    r.u32();
  } else if (op <= 0x11) r.u32();
  else throw new Error(`unknown 0xFC sub-opcode ${op}`);
}

/** Counts of 0xFD sub-opcodes over every function body, decoding each instruction's immediates. */
function simdOpcodes(bytes: Uint8Array, s: Section): Map<number, number> {
  const counts = new Map<number, number>();
  const r = new Reader(bytes, s.end);
  r.pos = s.start;
  for (let fn = r.u32(); fn > 0; fn--) {
    const size = r.u32();
    const body = new Reader(bytes, r.pos + size);
    body.pos = r.pos;
    for (let groups = body.u32(); groups > 0; groups--) {
      body.u32();
      body.byte();
    }
    while (body.pos < body.end) instruction(body, counts);
    r.skip(size);
  }
  assert.equal(r.pos, s.end, 'function bodies tile the code section');
  return counts;
}

function instruction(r: Reader, simd: Map<number, number>): void {
  const at = r.pos;
  const op = r.byte();
  if (op === 0xfd) {
    const sub = r.u32();
    simd.set(sub, (simd.get(sub) ?? 0) + 1);
    simdImmediates(r, sub);
  } else if (op === 0xfc) miscImmediates(r, r.u32());
  else if (op === 0x02 || op === 0x03 || op === 0x04) blockType(r);
  else if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || (op >= 0x20 && op <= 0x26) || op === 0xd2) r.u32();
  else if (op === 0x11 || op === 0x13) {
    r.u32();
    r.u32();
  } else if (op === 0x0e) {
    for (let n = r.u32() + 1; n > 0; n--) r.u32();
  } else if (op === 0x1c) {
    for (let n = r.u32(); n > 0; n--) r.byte();
  } else if (op >= 0x28 && op <= 0x3e) memarg(r);
  else if (op === 0x3f || op === 0x40 || op === 0xd0) r.byte();
  else if (op === 0x41 || op === 0x42) r.skipLeb();
  else if (op === 0x43) r.skip(4);
  else if (op === 0x44) r.skip(8);
  else if (!(
    op <= 0x01 ||
    op === 0x05 ||
    op === 0x0b ||
    op === 0x0f ||
    op === 0x1a ||
    op === 0x1b ||
    (op >= 0x45 && op <= 0xc4) ||
    op === 0xd1
  )) {
    throw new Error(`unknown opcode 0x${op.toString(16)} at byte ${at}`);
  }
}

const bytes = new Uint8Array(readFileSync(new URL('../../build/kiln.wasm', import.meta.url)));
const all = sections(bytes);
const section = (id: number) => all.find((s) => s.id === id);
const code = section(10);
const simd = code ? simdOpcodes(bytes, code) : new Map<number, number>();
const total = [...simd.values()].reduce((a, b) => a + b, 0);

test(`the release core is at most ${MAX_BYTES / 1024} KiB`, (t) => {
  t.diagnostic(`build/kiln.wasm: ${bytes.length} bytes (${(bytes.length / 1024).toFixed(1)} KiB), ${total} SIMD instructions`);
  console.log(
    `build/kiln.wasm is ${bytes.length} bytes (${(bytes.length / 1024).toFixed(1)} KiB of ${MAX_BYTES / 1024}), ${total} SIMD instructions`,
  );
  assert.ok(bytes.length <= MAX_BYTES, `build/kiln.wasm is ${bytes.length} bytes, more than ${MAX_BYTES}`);
});

test('the core imports nothing but env.abort', () => {
  const imp = section(2);
  assert.deepEqual(imp ? imports(bytes, imp) : [], ['env.abort']);
  assert.deepEqual(
    WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map((i) => `${i.module}.${i.name}`),
    ['env.abort'],
  );
});

test('the core uses SIMD128: f32x4.mul and v128.load are in its code', () => {
  assert.ok(code, 'a code section exists');
  assert.ok((simd.get(F32X4_MUL) ?? 0) > 0, `no f32x4.mul (0xFD 0xE6 0x01); SIMD sub-opcodes seen: ${[...simd.keys()].join(',')}`);
  assert.ok((simd.get(V128_LOAD) ?? 0) > 0, 'no v128.load');
});

test('the core uses no relaxed SIMD (sub-opcodes 0x100-0x113)', () => {
  const relaxed = [...simd.keys()].filter((op) => op >= RELAXED_FIRST && op <= RELAXED_LAST);
  assert.deepEqual(relaxed, [], `relaxed SIMD sub-opcodes found: ${relaxed.map((op) => '0x' + op.toString(16)).join(', ')}`);
});

test('binaryen disassembly agrees with the decoder', () => {
  const text = disassemble(bytes);
  const count = (re: RegExp) => text.match(re)?.length ?? 0;
  assert.equal(count(/\(f32x4\.mul\b/g), simd.get(F32X4_MUL) ?? 0, 'f32x4.mul count');
  assert.equal(count(/\(v128\.load\b(?![\d_])/g), simd.get(V128_LOAD) ?? 0, 'v128.load count');
  assert.equal(count(/relaxed/gi), 0, 'no relaxed instruction in the text');
});

test('the decoder finds a relaxed SIMD op behind v128.const immediates', () => {
  // (func (result v128) v128.const 0 ×3, f32x4.relaxed_madd): 16-byte immediates must be skipped
  // for the two-byte LEB sub-opcode 0x105 to be read.
  const constZero = [0xfd, 0x0c, ...new Array(16).fill(0)];
  const body = [0x00, ...constZero, ...constZero, ...constZero, 0xfd, 0x85, 0x02, 0x0b];
  const synthetic = new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    0x01,
    0x05,
    0x01,
    0x60,
    0x00,
    0x01,
    0x7b,
    0x03,
    0x02,
    0x01,
    0x00,
    0x0a,
    body.length + 2,
    0x01,
    body.length,
    ...body,
  ]);
  const found = simdOpcodes(
    synthetic,
    sections(synthetic).find((s) => s.id === 10)!,
  );
  assert.deepEqual(
    [...found.entries()],
    [
      [0x0c, 3],
      [0x105, 1],
    ],
  );
});
