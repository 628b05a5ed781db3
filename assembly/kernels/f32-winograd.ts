// Winograd convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", CVPR 2016): F(m×m, r×r) on 6×6 input tiles, r = 3 (m = 4) or r = 5 (m = 2), stride
// 1, no dilation, one group; layouts as in f32-conv.ts (NCHW, w [O, C, r, r], ph/pw top/left
// padding, the bottom and right implied by OH, OW). Each m×m output tile is
//   Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A
// with the interpolation points 0, 1, −1, 2, −2 and ∞. The 36 element-wise products summed over
// channels are 36 GEMMs, M_ξ[O, tiles] = U_ξ[O, C]·V_ξ[C, tiles], through f32-gemm: a 5×5
// convolution takes 36/4 = 9 multiplies per output and channel where direct convolution takes 25
// (3×3: 36/16 = 2.25 against 9).
//
// Numerics: not the bits of f32_conv2d_fwd (the forward of training and inference both take this
// path where the layer allows it; the backward, f32_conv2d_bwd, is direct convolution's, which
// differs from this forward's function by the rounding below); within 2e-6 (5×5) and 1e-5 (3×3) of Σ|w·x| of an f64 convolution
// (the test measures 1.0e-6 and 4.8e-6; a direct f32 sum stays near 1e-7). Every element is a
// fixed sequence of f32 operations written out below and spelled the same in the _ref twin, and
// the GEMM's contract makes a tile's bits independent of the batch and chunk, so a sample's output
// is the same alone, in any batch, on any thread count and in every runtime.
//
// Per call: the filters are transformed into U, unless `reuse` says the workspace is this layer's
// alone and its key (O, C, K and a copy of the filters U was made from, compared byte for byte)
// shows that U already holds them: a function of the filters' bytes, so changed weights are
// always seen and a batch-1 call does not pay for the transform each time. Then, for each chunk
// of samples, every channel plane is copied into a zero-padded plane that covers all tiles,
// transformed into V, the 36 GEMMs run, and the output transform writes whole tiles into an
// output plane whose rows are copied into y with the bias added (the bits of f32_add_chan's
// y + bias), then the activation as in f32_conv2d_fwd.
// Workspace (f32_conv2d_winograd_floats): the key 4 + O·C·K·K, U 36·O·C, staging vectors for the
// transforms, the padded input and the output plane, V 36·C·n·S and M 36·O·n·S floats for chunks
// of n samples of S tiles.
import { f32_gemm_nn, f32_gemm_nn_ref } from "./f32-gemm";
import { copyRun } from "./float-runs";
import { f32_act_fwd, f32_act_fwd_ref } from "./f32-act";

const SIDE = 6;
const XI = 36;
// Staging vectors for the transforms (the filters' need is the largest: 25 + 30 vectors).
const STAGE_FLOATS = 64 * 4;
// The key's header: a mark, then O, C and K. A workspace starts zeroed (the engine allocates
// workspaces with zeros), so a fresh one never matches.
const KEY_FLOATS = 4;
const KEY_MARK = 0x57494e4f;

// Floats of workspace for chunks of `chunk` samples (r = K, output tiles m = 7 − K).
export function f32_conv2d_winograd_floats(C: i32, O: i32, OH: i32, OW: i32, K: i32, chunk: i32): i32 {
  const m = 7 - K;
  const th = (OH + m - 1) / m, tw = (OW + m - 1) / m;
  return KEY_FLOATS + O * C * K * K + XI * O * C + STAGE_FLOATS + (th * m + K - 1) * (tw * m + K - 1) + th * m * tw * m + XI * chunk * th * tw * (C + O);
}

// pre[B, O, OH, OW] = conv(x, w) + bias (bias 0: none), y = act(pre); pre == 0 writes only y
// (inference). K is 3 or 5.
// reuse != 0: the workspace belongs to this convolution alone and starts zeroed (see the header).
export function f32_conv2d_winograd(y: usize, pre: usize, x: usize, w: usize, bias: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, K: i32, ph: i32, pw: i32, chunk: i32, reuse: i32, act: i32, alpha: f32): void {
  run(false, y, pre, x, w, bias, ws, B, C, H, W, O, OH, OW, K, ph, pw, chunk, reuse, act, alpha);
}

// Always transforms the filters (reuse is ignored).
export function f32_conv2d_winograd_ref(y: usize, pre: usize, x: usize, w: usize, bias: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, K: i32, ph: i32, pw: i32, chunk: i32, reuse: i32, act: i32, alpha: f32): void {
  run(true, y, pre, x, w, bias, ws, B, C, H, W, O, OH, OW, K, ph, pw, chunk, 0, act, alpha);
}

@inline function run(ref: bool, y: usize, pre: usize, x: usize, w: usize, bias: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, K: i32, ph: i32, pw: i32, chunk: i32, reuse: i32, act: i32, alpha: f32): void {
  assert(K == 3 || K == 5, "winograd: kernel size must be 3 or 5");
  const m = 7 - K;
  const tilesH = (OH + m - 1) / m, tilesW = (OW + m - 1) / m, S = tilesH * tilesW;
  const Hp = tilesH * m + K - 1, Wp = tilesW * m + K - 1;
  const key = ws;
  const u = key + ((<usize>KEY_FLOATS + <usize>O * C * K * K) << 2);
  const stage = u + ((<usize>XI * O * C) << 2);
  const plane = stage + (<usize>STAGE_FLOATS << 2);
  const outPlane = plane + ((<usize>Hp * Wp) << 2);
  const Wq = tilesW * m;
  const v = outPlane + ((<usize>tilesH * m * Wq) << 2);
  const mo = v + ((<usize>XI * C * chunk * S) << 2);
  if (ref) filtersRef(u, w, O * C, K, stage);
  else if (reuse == 0 || !holdsFilters(key, w, O, C, K)) {
    filters(u, w, O * C, K, stage);
    if (reuse != 0) keep(key, w, O, C, K);
  }
  // The padding stays zero: every plane copied in overwrites the same interior.
  memory.fill(plane, 0, (<usize>Hp * Wp) << 2);
  const rows = min(H, Hp - ph), cols = min(W, Wp - pw);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const n = min(chunk, B - b0), N = n * S;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        const src = x + ((<usize>((b0 + i) * C + c) * H * W) << 2);
        for (let r = 0; r < rows; r++) {
          const to = plane + ((<usize>(r + ph) * Wp + pw) << 2), from = src + ((<usize>r * W) << 2);
          if (ref) for (let j = 0; j < cols; j++) store<f32>(to + (<usize>j << 2), load<f32>(from + (<usize>j << 2)));
          else copyRun(to, from, cols);
        }
        const dst = v + ((<usize>c * N + i * S) << 2), xiStride = (<usize>C * N) << 2;
        if (ref) inputTilesRef(dst, xiStride, plane, stage, Wp, m, tilesH, tilesW);
        else inputTiles(dst, xiStride, plane, stage, Wp, m, tilesH, tilesW);
      }
    }
    for (let xi = 0; xi < XI; xi++) {
      const ux = u + ((<usize>xi * O * C) << 2), vx = v + ((<usize>xi * C * N) << 2), mx = mo + ((<usize>xi * O * N) << 2);
      if (ref) f32_gemm_nn_ref(mx, ux, vx, O, N, C, 0);
      else f32_gemm_nn(mx, ux, vx, O, N, C, 0);
    }
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < O; o++) {
        const src = mo + ((<usize>o * N + i * S) << 2), xiStride = (<usize>O * N) << 2;
        const at = (<usize>((b0 + i) * O + o) * OH * OW) << 2;
        const out = (pre != 0 ? pre : y) + at;
        const b: f32 = bias != 0 ? load<f32>(bias + (<usize>o << 2)) : 0;
        if (ref) {
          outputTilesRef(outPlane, Wq, src, xiStride, stage, m, tilesH, tilesW);
          planeOutRef(out, outPlane, Wq, OH, OW, b, bias != 0);
          f32_act_fwd_ref(y + at, out, OH * OW, act, alpha);
        } else {
          outputTiles(outPlane, Wq, src, xiStride, stage, m, tilesH, tilesW);
          planeOut(out, outPlane, Wq, OH, OW, b, bias != 0);
          f32_act_fwd(y + at, out, OH * OW, act, alpha);
        }
      }
    }
  }
}

// The key at `key` names these filters: U was transformed from exactly these bytes.
function holdsFilters(key: usize, w: usize, O: i32, C: i32, K: i32): bool {
  if (load<i32>(key) != KEY_MARK || load<i32>(key, 4) != O || load<i32>(key, 8) != C || load<i32>(key, 12) != K) return false;
  const copy = key + (<usize>KEY_FLOATS << 2), bytes = (<usize>O * C * K * K) << 2;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) if (v128.any_true(v128.xor(v128.load(copy + i), v128.load(w + i)))) return false;
  for (; i < bytes; i += 4) if (load<u32>(copy + i) != load<u32>(w + i)) return false;
  return true;
}

function keep(key: usize, w: usize, O: i32, C: i32, K: i32): void {
  memory.copy(key + (<usize>KEY_FLOATS << 2), w, (<usize>O * C * K * K) << 2);
  store<i32>(key, KEY_MARK);
  store<i32>(key, O, 4);
  store<i32>(key, C, 8);
  store<i32>(key, K, 12);
}

// y rows [OH, OW] = the output plane's rows (Wq floats apart) + b, when there is a bias.
function planeOutRef(y: usize, q: usize, Wq: i32, OH: i32, OW: i32, b: f32, withBias: bool): void {
  for (let r = 0; r < OH; r++)
    for (let j = 0; j < OW; j++) {
      const v = load<f32>(q + ((<usize>r * Wq + j) << 2));
      store<f32>(y + ((<usize>r * OW + j) << 2), withBias ? v + b : v);
    }
}

function planeOut(y: usize, q: usize, Wq: i32, OH: i32, OW: i32, b: f32, withBias: bool): void {
  if (OW < 4) {
    planeOutRef(y, q, Wq, OH, OW, b, withBias);
    return;
  }
  const bv = f32x4.splat(b);
  for (let r = 0; r < OH; r++) {
    const to = y + ((<usize>r * OW) << 2), from = q + ((<usize>r * Wq) << 2);
    if (!withBias) {
      copyRun(to, from, OW);
      continue;
    }
    // The last vector ends at OW, overlapping the one before: it adds b to the plane's values
    // again, never to y's, so the overlap writes the same bits twice.
    for (let j = 0; j < OW; j += 4) {
      const at = <usize>min(j, OW - 4) << 2;
      v128.store(to + at, f32x4.add(v128.load(from + at), bv));
    }
  }
}

// ---- Filters: U_ξ[o, c] = (G g Gᵀ)[ξ] for the F filters g = w[o, c] (F = O·C) ----
// Row i of G is c_i·(1, p_i, p_i², …) for the finite points p_i and (0, …, 0, 1) for ∞, with
// c_i = 1/Π_{j≠i}(p_i − p_j) (1/4, −1/6, −1/6, 1/24, 1/24). G g Gᵀ is evaluated as polynomials
// at the points by Horner's rule (every multiplication by 0, ±1 or ±2 is exact), rows then columns,
// and each entry is scaled once by c_i·c_j (rounded from f64).
// Constant tables live in the data segment (memory.data): the core allocates nothing at start-up.
const POINT = memory.data<f32>([0, 1, -1, 2, -2]);
const COEF = memory.data<f64>([0.25, -0.16666666666666666, -0.16666666666666666, 0.041666666666666664, 0.041666666666666664, 1]);

@inline function point(i: i32): f32 {
  return load<f32>(POINT + (<usize>i << 2));
}

// c_i·c_j, rounded once from f64.
@inline function scale(i: i32, j: i32): f32 {
  return <f32>(load<f64>(COEF + (<usize>i << 3)) * load<f64>(COEF + (<usize>j << 3)));
}

// Value of the polynomial with coefficients at p, p + step, … (K of them) at point i (5: ∞).
@inline function evalScalar(p: usize, step: usize, K: i32, i: i32): f32 {
  if (i == 5) return load<f32>(p + <usize>(K - 1) * step);
  const t = point(i);
  let acc = load<f32>(p + <usize>(K - 1) * step);
  for (let k = K - 2; k >= 0; k--) acc = acc * t + load<f32>(p + <usize>k * step);
  return acc;
}

@inline function evalVector(p: usize, step: usize, K: i32, i: i32): v128 {
  if (i == 5) return v128.load(p + <usize>(K - 1) * step);
  const t = f32x4.splat(point(i));
  let acc = v128.load(p + <usize>(K - 1) * step);
  for (let k = K - 2; k >= 0; k--) acc = f32x4.add(f32x4.mul(acc, t), v128.load(p + <usize>k * step));
  return acc;
}

function filtersRef(u: usize, w: usize, F: i32, K: i32, stage: usize): void {
  // rowsT[i][l]: the filter's columns evaluated at point i; then its rows.
  const rowsT = stage;
  for (let f = 0; f < F; f++) {
    const g = w + ((<usize>f * K * K) << 2);
    for (let i = 0; i < SIDE; i++)
      for (let l = 0; l < K; l++) store<f32>(rowsT + ((<usize>i * 5 + l) << 2), evalScalar(g + (<usize>l << 2), <usize>K << 2, K, i));
    for (let i = 0; i < SIDE; i++)
      for (let j = 0; j < SIDE; j++) {
        const e = evalScalar(rowsT + ((<usize>i * 5) << 2), 4, K, j);
        store<f32>(u + ((<usize>(i * SIDE + j) * F + f) << 2), e * scale(i, j));
      }
  }
}

// Four filters at a time (lane f + k): their K·K values are gathered into a staging block of
// vectors, element (k, l) at vector k·K + l; a last group overlaps the previous one.
function filters(u: usize, w: usize, F: i32, K: i32, stage: usize): void {
  if (F < 4) {
    filtersRef(u, w, F, K, stage);
    return;
  }
  const gv = stage, rowsT = stage + 25 * 16;
  const KK = K * K;
  for (let f0 = 0; f0 < F; f0 += 4) {
    const f = min(f0, F - 4);
    const g = w + ((<usize>f * KK) << 2), fs = (<usize>KK) << 2;
    for (let e = 0; e < KK; e++) {
      const p = g + (<usize>e << 2);
      v128.store(gv + (<usize>e << 4), f32x4(load<f32>(p), load<f32>(p + fs), load<f32>(p + 2 * fs), load<f32>(p + 3 * fs)));
    }
    for (let i = 0; i < SIDE; i++)
      for (let l = 0; l < K; l++) v128.store(rowsT + ((<usize>i * 5 + l) << 4), evalVector(gv + (<usize>l << 4), <usize>K << 4, K, i));
    for (let i = 0; i < SIDE; i++)
      for (let j = 0; j < SIDE; j++) {
        const e = evalVector(rowsT + ((<usize>i * 5) << 4), 16, K, j);
        v128.store(u + ((<usize>(i * SIDE + j) * F + f) << 2), f32x4.mul(e, f32x4.splat(scale(i, j))));
      }
  }
}

// ---- Input tiles: V_ξ[c, t] = (Bᵀ d B)[ξ] for the 6×6 patch d of tile t ----
// Bᵀ's six rows over d0..d5, each a fixed sequence of operations shared by both twins:
//   (4d0 − 5d2) + d4, (d3 + d4) − 4(d1 + d2), (d4 − d3) + 4(d1 − d2),
//   (d4 − d2) + 2(d3 − d1), (d4 − d2) − 2(d3 − d1), (4d1 − 5d3) + d5.
@inline function btScalar(dst: usize, step: usize, d0: f32, d1: f32, d2: f32, d3: f32, d4: f32, d5: f32): void {
  store<f32>(dst, (d0 * 4 - d2 * 5) + d4);
  store<f32>(dst + step, (d3 + d4) - (d1 + d2) * 4);
  store<f32>(dst + 2 * step, (d4 - d3) + (d1 - d2) * 4);
  store<f32>(dst + 3 * step, (d4 - d2) + (d3 - d1) * 2);
  store<f32>(dst + 4 * step, (d4 - d2) - (d3 - d1) * 2);
  store<f32>(dst + 5 * step, (d1 * 4 - d3 * 5) + d5);
}

@inline function btVector(dst: usize, step: usize, d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128): void {
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(d0, four), f32x4.mul(d2, five)), d4));
  v128.store(dst + step, f32x4.sub(f32x4.add(d3, d4), f32x4.mul(f32x4.add(d1, d2), four)));
  v128.store(dst + 2 * step, f32x4.add(f32x4.sub(d4, d3), f32x4.mul(f32x4.sub(d1, d2), four)));
  const e = f32x4.sub(d4, d2), f = f32x4.mul(f32x4.sub(d3, d1), two);
  v128.store(dst + 3 * step, f32x4.add(e, f));
  v128.store(dst + 4 * step, f32x4.sub(e, f));
  v128.store(dst + 5 * step, f32x4.add(f32x4.sub(f32x4.mul(d1, four), f32x4.mul(d3, five)), d5));
}

// Tile t = th·tilesW + tw reads the padded plane's rows th·m.. and columns tw·m.. (6 of each);
// its 36 values go to dst + ξ·xiStride + t·4. Bᵀ runs along each of the patch's rows into the
// staging block (row a, column j at a·6 + j), then down each column into V.
function inputTilesRef(dst: usize, xiStride: usize, plane: usize, stage: usize, Wp: i32, m: i32, tilesH: i32, tilesW: i32): void {
  const row = <usize>Wp << 2;
  for (let th = 0; th < tilesH; th++)
    for (let tw = 0; tw < tilesW; tw++) {
      const p = plane + <usize>(th * m) * row + (<usize>(tw * m) << 2);
      for (let a = 0; a < SIDE; a++) {
        const q = p + <usize>a * row;
        btScalar(stage + <usize>a * 24, 4, load<f32>(q), load<f32>(q + 4), load<f32>(q + 8), load<f32>(q + 12), load<f32>(q + 16), load<f32>(q + 20));
      }
      const t = dst + (<usize>(th * tilesW + tw) << 2);
      for (let j = 0; j < SIDE; j++) {
        const s = stage + (<usize>j << 2);
        btScalar(t + <usize>j * xiStride, SIDE * xiStride, load<f32>(s), load<f32>(s + 24), load<f32>(s + 48), load<f32>(s + 72), load<f32>(s + 96), load<f32>(s + 120));
      }
    }
}

// Row a of four tiles side by side (lane k: tile tw + k, whose columns start m floats after the
// previous tile's) as six column vectors, through Bᵀ into stage[a·6 + j]. m = 2: three loads
// give columns 0 and 1 by even/odd lanes, and each later column is the one two before moved one
// tile on; m = 4: a 4×4 transpose of four loads gives columns 0-3, then 4 and 5 are 0 and 1 moved.
@inline function btRow(dst: usize, p: usize, m: i32): void {
  if (m == 2) {
    const l0 = v128.load(p), l1 = v128.load(p + 16), l2 = v128.load(p + 32);
    const c0 = v128.shuffle<f32>(l0, l1, 0, 2, 4, 6), c1 = v128.shuffle<f32>(l0, l1, 1, 3, 5, 7);
    const c2 = v128.shuffle<f32>(c0, l2, 1, 2, 3, 4), c3 = v128.shuffle<f32>(c1, l2, 1, 2, 3, 5);
    const c4 = v128.shuffle<f32>(c2, l2, 1, 2, 3, 6), c5 = v128.shuffle<f32>(c3, l2, 1, 2, 3, 7);
    btVector(dst, 16, c0, c1, c2, c3, c4, c5);
  } else {
    const l0 = v128.load(p), l1 = v128.load(p + 16), l2 = v128.load(p + 32), l3 = v128.load(p + 48), l4 = v128.load(p + 64);
    const a = v128.shuffle<f32>(l0, l1, 0, 4, 1, 5), b = v128.shuffle<f32>(l2, l3, 0, 4, 1, 5);
    const c = v128.shuffle<f32>(l0, l1, 2, 6, 3, 7), d = v128.shuffle<f32>(l2, l3, 2, 6, 3, 7);
    const c0 = v128.shuffle<f32>(a, b, 0, 1, 4, 5), c1 = v128.shuffle<f32>(a, b, 2, 3, 6, 7);
    const c2 = v128.shuffle<f32>(c, d, 0, 1, 4, 5), c3 = v128.shuffle<f32>(c, d, 2, 3, 6, 7);
    const c4 = v128.shuffle<f32>(c0, l4, 1, 2, 3, 4), c5 = v128.shuffle<f32>(c1, l4, 1, 2, 3, 5);
    btVector(dst, 16, c0, c1, c2, c3, c4, c5);
  }
}

// Four tiles of a tile row per vector; a row's last group overlaps the one before it
// (recomputing equal values) rather than leaving a scalar tail. A group's loads reach 4·m + 4
// floats past its first column: up to two past the row's end, into the plane's next row or the
// output plane after it, and those lanes are never used.
function inputTiles(dst: usize, xiStride: usize, plane: usize, stage: usize, Wp: i32, m: i32, tilesH: i32, tilesW: i32): void {
  if (tilesW < 4) {
    inputTilesRef(dst, xiStride, plane, stage, Wp, m, tilesH, tilesW);
    return;
  }
  const row = <usize>Wp << 2;
  for (let th = 0; th < tilesH; th++) {
    const top = plane + <usize>(th * m) * row;
    for (let g = 0; g < tilesW; g += 4) {
      const tw = min(g, tilesW - 4);
      const p = top + (<usize>(tw * m) << 2);
      for (let a = 0; a < SIDE; a++) btRow(stage + <usize>a * 96, p + <usize>a * row, m);
      const t = dst + (<usize>(th * tilesW + tw) << 2);
      for (let j = 0; j < SIDE; j++) {
        const s = stage + (<usize>j << 4);
        btVector(t + <usize>j * xiStride, SIDE * xiStride, v128.load(s), v128.load(s + 96), v128.load(s + 192), v128.load(s + 288), v128.load(s + 384), v128.load(s + 480));
      }
    }
  }
}

// ---- Output tiles: Y = Aᵀ M A ----
// Aᵀ's rows over m0..m5; m = 2: ((m1 + m2) + (m3 + m4)) + m0, ((m1 − m2) + 2(m3 − m4)) + m5;
// m = 4: ((m1 + m2) + (m3 + m4)) + m0, (m1 − m2) + 2(m3 − m4), (m1 + m2) + 4(m3 + m4),
// ((m1 − m2) + 8(m3 − m4)) + m5.
@inline function atScalar(dst: usize, step: usize, m: i32, m0: f32, m1: f32, m2: f32, m3: f32, m4: f32, m5: f32): void {
  const sp = m1 + m2, sm = m1 - m2, tp = m3 + m4, tm = m3 - m4;
  store<f32>(dst, (sp + tp) + m0);
  if (m == 2) {
    store<f32>(dst + step, (sm + tm * 2) + m5);
  } else {
    store<f32>(dst + step, sm + tm * 2);
    store<f32>(dst + 2 * step, sp + tp * 4);
    store<f32>(dst + 3 * step, (sm + tm * 8) + m5);
  }
}

@inline function atVector(dst: usize, step: usize, m: i32, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): void {
  const sp = f32x4.add(m1, m2), sm = f32x4.sub(m1, m2), tp = f32x4.add(m3, m4), tm = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(sp, tp), m0));
  if (m == 2) {
    v128.store(dst + step, f32x4.add(f32x4.add(sm, f32x4.mul(tm, f32x4.splat(2))), m5));
  } else {
    v128.store(dst + step, f32x4.add(sm, f32x4.mul(tm, f32x4.splat(2))));
    v128.store(dst + 2 * step, f32x4.add(sp, f32x4.mul(tp, f32x4.splat(4))));
    v128.store(dst + 3 * step, f32x4.add(f32x4.add(sm, f32x4.mul(tm, f32x4.splat(8))), m5));
  }
}

// One tile t = th·tilesW + tw of one output channel: its 36 values at src + ξ·xiStride + t·4;
// its m×m outputs go to the output plane q (rows Wq floats apart) at (th·m, tw·m).
function outputTile(q: usize, Wq: i32, src: usize, xiStride: usize, stage: usize, m: i32, tilesW: i32, th: i32, tw: i32): void {
  const p = src + (<usize>(th * tilesW + tw) << 2);
  for (let s = 0; s < SIDE; s++) {
    const at = p + <usize>s * xiStride, r = <usize>SIDE * xiStride;
    atScalar(stage + (<usize>s << 2), 24, m, load<f32>(at), load<f32>(at + r), load<f32>(at + 2 * r), load<f32>(at + 3 * r), load<f32>(at + 4 * r), load<f32>(at + 5 * r));
  }
  for (let u = 0; u < m; u++) {
    const s = stage + <usize>u * 24;
    atScalar(q + ((<usize>(th * m + u) * Wq + tw * m) << 2), 4, m, load<f32>(s), load<f32>(s + 4), load<f32>(s + 8), load<f32>(s + 12), load<f32>(s + 16), load<f32>(s + 20));
  }
}

function outputTilesRef(q: usize, Wq: i32, src: usize, xiStride: usize, stage: usize, m: i32, tilesH: i32, tilesW: i32): void {
  for (let th = 0; th < tilesH; th++)
    for (let tw = 0; tw < tilesW; tw++) outputTile(q, Wq, src, xiStride, stage, m, tilesW, th, tw);
}

// Four tiles of a tile row per vector, as inputTiles; the four tiles' output rows are
// interleaved into plane rows before storing.
function outputTiles(q: usize, Wq: i32, src: usize, xiStride: usize, stage: usize, m: i32, tilesH: i32, tilesW: i32): void {
  if (tilesW < 4) {
    outputTilesRef(q, Wq, src, xiStride, stage, m, tilesH, tilesW);
    return;
  }
  const y = stage + XI * 16;
  for (let th = 0; th < tilesH; th++) {
    for (let g = 0; g < tilesW; g += 4) {
      const tw = min(g, tilesW - 4);
      const p = src + (<usize>(th * tilesW + tw) << 2);
      for (let s = 0; s < SIDE; s++) {
        const at = p + <usize>s * xiStride, r = <usize>SIDE * xiStride;
        atVector(stage + (<usize>s << 4), 96, m, v128.load(at), v128.load(at + r), v128.load(at + 2 * r), v128.load(at + 3 * r), v128.load(at + 4 * r), v128.load(at + 5 * r));
      }
      for (let u = 0; u < m; u++) {
        const s = stage + <usize>u * 96;
        atVector(y + (<usize>(u * m) << 4), 16, m, v128.load(s), v128.load(s + 16), v128.load(s + 32), v128.load(s + 48), v128.load(s + 64), v128.load(s + 80));
      }
      for (let u = 0; u < m; u++) {
        const at = q + ((<usize>(th * m + u) * Wq + tw * m) << 2);
        const yu = y + (<usize>(u * m) << 4);
        if (m == 2) {
          const y0 = v128.load(yu), y1 = v128.load(yu + 16);
          v128.store(at, v128.shuffle<f32>(y0, y1, 0, 4, 1, 5));
          v128.store(at + 16, v128.shuffle<f32>(y0, y1, 2, 6, 3, 7));
        } else {
          const y0 = v128.load(yu), y1 = v128.load(yu + 16), y2 = v128.load(yu + 32), y3 = v128.load(yu + 48);
          const a = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5), b = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
          const c = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7), d = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
          v128.store(at, v128.shuffle<f32>(a, b, 0, 1, 4, 5));
          v128.store(at + 16, v128.shuffle<f32>(a, b, 2, 3, 6, 7));
          v128.store(at + 32, v128.shuffle<f32>(c, d, 0, 1, 4, 5));
          v128.store(at + 48, v128.shuffle<f32>(c, d, 2, 3, 6, 7));
        }
      }
    }
  }
}
