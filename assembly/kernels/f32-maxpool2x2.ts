// Max pooling's common case, a 2×2 window with stride 2 and no padding (every pooling layer of
// the usual CNNs), four windows at a time. Each lane makes the general loop's comparisons in its
// order: a running best from −∞, replaced only by a strictly larger value (NaN never wins, ties
// keep the first position), so the bits are the general path's. The general loop spends most of
// its time on mispredicted branches of `v > best` over data that has no order.

export function isMaxPool2x2(KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): bool {
  return KH == 2 && KW == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0;
}

// The four positions of four adjacent windows: rows r0 and r1 from column 8·g, split into even
// (left) and odd (right) columns.
@inline function evens(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 2, 4, 6);
}
@inline function odds(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 1, 3, 5, 7);
}
@inline function better(v: v128, best: v128): v128 {
  return f32x4.gt(v, best);
}

// One window at a time, for the columns left after the groups of four: the index (0-3) of the
// first largest of the four, or -1 when none beats −∞.
@inline function argmax4(p00: f32, p01: f32, p10: f32, p11: f32): i32 {
  let best: f32 = -Infinity;
  let at = -1;
  if (p00 > best) { best = p00; at = 0; }
  if (p01 > best) { best = p01; at = 1; }
  if (p10 > best) { best = p10; at = 2; }
  if (p11 > best) { at = 3; }
  return at;
}

export function maxPool2x2Fwd(y: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  const ninf = f32x4.splat(-Infinity);
  const OW4 = OW & ~3;
  let out = y;
  for (let n = 0; n < N; n++) {
    const plane = x + ((<usize>n * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const r0 = plane + ((<usize>(oh << 1) * W) << 2), r1 = r0 + (<usize>W << 2);
      let ow = 0;
      for (; ow < OW4; ow += 4, out += 16) {
        const at = <usize>ow << 3;
        const a = v128.load(r0 + at), b = v128.load(r0 + at, 16), c = v128.load(r1 + at), d = v128.load(r1 + at, 16);
        let best = ninf;
        let v = evens(a, b);
        best = v128.bitselect(v, best, better(v, best));
        v = odds(a, b);
        best = v128.bitselect(v, best, better(v, best));
        v = evens(c, d);
        best = v128.bitselect(v, best, better(v, best));
        v = odds(c, d);
        best = v128.bitselect(v, best, better(v, best));
        v128.store(out, best);
      }
      for (; ow < OW; ow++, out += 4) {
        const at = <usize>ow << 3;
        let best: f32 = -Infinity;
        const p00 = load<f32>(r0 + at), p01 = load<f32>(r0 + at, 4), p10 = load<f32>(r1 + at), p11 = load<f32>(r1 + at, 4);
        if (p00 > best) best = p00;
        if (p01 > best) best = p01;
        if (p10 > best) best = p10;
        if (p11 > best) best = p11;
        store<f32>(out, best);
      }
    }
  }
}

// dx = 0, then each window's 0 + dy at its first largest position (the general path's sum).
export function maxPool2x2Bwd(dx: usize, dy: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  memory.fill(dx, 0, (<usize>N * H * W) << 2);
  const ninf = f32x4.splat(-Infinity), zero = f32x4.splat(0);
  const i0 = i32x4.splat(0), i1 = i32x4.splat(1), i2 = i32x4.splat(2), i3 = i32x4.splat(3);
  const OW4 = OW & ~3;
  let grad = dy;
  for (let n = 0; n < N; n++) {
    const offset = (<usize>n * H * W) << 2;
    for (let oh = 0; oh < OH; oh++) {
      const row = offset + ((<usize>(oh << 1) * W) << 2), next = <usize>W << 2;
      const r0 = x + row, r1 = r0 + next, d0 = dx + row, d1 = d0 + next;
      let ow = 0;
      for (; ow < OW4; ow += 4, grad += 16) {
        const at = <usize>ow << 3;
        const a = v128.load(r0 + at), b = v128.load(r0 + at, 16), c = v128.load(r1 + at), d = v128.load(r1 + at, 16);
        let best = ninf;
        let id = i32x4.splat(-1);
        let v = evens(a, b);
        let m = better(v, best);
        best = v128.bitselect(v, best, m);
        id = v128.bitselect(i0, id, m);
        v = odds(a, b);
        m = better(v, best);
        best = v128.bitselect(v, best, m);
        id = v128.bitselect(i1, id, m);
        v = evens(c, d);
        m = better(v, best);
        best = v128.bitselect(v, best, m);
        id = v128.bitselect(i2, id, m);
        v = odds(c, d);
        id = v128.bitselect(i3, id, better(v, best));
        const g = f32x4.add(zero, v128.load(grad));
        const g00 = v128.and(g, i32x4.eq(id, i0)), g01 = v128.and(g, i32x4.eq(id, i1));
        const g10 = v128.and(g, i32x4.eq(id, i2)), g11 = v128.and(g, i32x4.eq(id, i3));
        v128.store(d0 + at, v128.shuffle<f32>(g00, g01, 0, 4, 1, 5));
        v128.store(d0 + at, v128.shuffle<f32>(g00, g01, 2, 6, 3, 7), 16);
        v128.store(d1 + at, v128.shuffle<f32>(g10, g11, 0, 4, 1, 5));
        v128.store(d1 + at, v128.shuffle<f32>(g10, g11, 2, 6, 3, 7), 16);
      }
      for (; ow < OW; ow++, grad += 4) {
        const at = <usize>ow << 3;
        const k = argmax4(load<f32>(r0 + at), load<f32>(r0 + at, 4), load<f32>(r1 + at), load<f32>(r1 + at, 4));
        if (k < 0) continue;
        const to = (k < 2 ? d0 : d1) + at + (<usize>(k & 1) << 2);
        store<f32>(to, <f32>0 + load<f32>(grad));
      }
    }
  }
}
