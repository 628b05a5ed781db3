// The one PRNG of the library: xoshiro128** 1.1 whose 16-byte state (four u32, little-endian,
// s0..s3) lives at an address the host owns, so any number of independent streams can exist
// (weight init, shuffling, dropout, samplers), each advanced only by the kernels given its state.
// Every construction below is integer arithmetic plus f64 math compiled into this module, so a
// seed yields the same bits in every engine.
// see: Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 2021
//
// Constructions (u = one 32-bit output of the generator):
//   seeding      splitmix64 over the 64-bit seed; its first output fills s0 (low half), s1 (high
//                half), its second fills s2, s3. splitmix64's finaliser is a bijection and the two
//                outputs come from distinct counters, so they cannot both be zero: the state is
//                never all-zero (checked anyway, because an all-zero state would emit zeros forever).
//   f64 uniform  [0, 1) with 53 random bits: ((u1 >>> 5)·2^26 + (u2 >>> 6)) · 2^-53.
//   f32 uniform  [lo, hi): 24 random bits r = u >>> 8 (as PyTorch's float uniform_), the value
//                lo + (hi − lo)·r·2^-24 in f64, rounded once to f32; a result that rounds up to hi
//                is replaced by the largest f32 below hi, so hi is never produced.
//   normal       Marsaglia's polar method in f64: a, b uniform in [−1, 1) from the f64 uniform,
//                rejected unless 0 < s = a² + b² < 1; then a·√(−2 ln s / s) and b·√(−2 ln s / s)
//                are two independent N(0, 1); mean + std·z is rounded once to f32. For odd n the
//                pair's second value is discarded (a stream holds no cache beyond its 16 bytes).
//   bounded int  Lemire's multiply-shift with rejection: m = u·range (64-bit); the low word
//                below (2^32 − range) mod range is rejected, so every value in [0, range) is
//                exactly equally likely.
//   permutation  Fisher–Yates from the top: for i = n−1 … 1 swap out[i] with out[bounded(i+1)].
//   dropout      element kept when u >= p·2^32 (probability 1 − p to within 2^-32).
// see: Lemire, "Fast random integer generation in an interval", ACM TOMACS 2019
// see: Marsaglia & Bray, "A convenient method for generating normal variables", SIAM Review 1964
import { INIT_GLOROT_NORMAL, INIT_GLOROT_UNIFORM, INIT_HE_NORMAL, INIT_HE_UNIFORM } from "../codes";

// The stream being advanced, held in globals for the duration of one kernel call: loaded from
// memory on entry, stored back on exit, so the inner loops touch no memory for the state.
let s0: u32 = 0;
let s1: u32 = 0;
let s2: u32 = 0;
let s3: u32 = 0;

@inline function enter(state: usize): void {
  s0 = load<u32>(state, 0);
  s1 = load<u32>(state, 4);
  s2 = load<u32>(state, 8);
  s3 = load<u32>(state, 12);
}

@inline function leave(state: usize): void {
  store<u32>(state, s0, 0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
}

@inline function next(): u32 {
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

@inline function nextF64(): f64 {
  const a = next() >>> 5;
  const b = next() >>> 6;
  return (<f64>a * 67108864.0 + <f64>b) * 1.1102230246251565e-16; // 2^26, 2^-53
}

// Uniform integer in [0, range), range >= 1.
@inline function bounded(range: u32): u32 {
  let m = <u64>next() * <u64>range;
  let low = <u32>m;
  if (low < range) {
    const threshold: u32 = (<u32>0 - range) % range;
    while (low < threshold) {
      m = <u64>next() * <u64>range;
      low = <u32>m;
    }
  }
  return <u32>(m >> 32);
}

@inline function splitmix64(x: u64): u64 {
  let z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// The largest f32 strictly below x (x finite).
@inline function f32Below(x: f32): f32 {
  if (x == 0) return -reinterpret<f32>(<u32>1);
  const bits = reinterpret<u32>(x);
  return reinterpret<f32>(x > 0 ? bits - 1 : bits + 1);
}

// Fills the 16 bytes at `state` from the 64-bit seed (seedHi << 32 | seedLo) through splitmix64.
export function rng_seed(state: usize, seedLo: u32, seedHi: u32): void {
  const seed = (<u64>seedHi << 32) | <u64>seedLo;
  const a = splitmix64(seed + 0x9e3779b97f4a7c15);
  const b = splitmix64(seed + 0x9e3779b97f4a7c15 * 2);
  s0 = <u32>a;
  s1 = <u32>(a >> 32);
  s2 = <u32>b;
  s3 = <u32>(b >> 32);
  if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
  leave(state);
}

// One raw 32-bit output (JS sees it as a signed i32; the host reinterprets with >>> 0).
export function rng_next_u32(state: usize): u32 {
  enter(state);
  const u = next();
  leave(state);
  return u;
}

// out[n] f64 = uniform [0, 1) with 53 random bits; two generator outputs per value.
export function f64_rand_uniform(state: usize, out: usize, n: i32): void {
  enter(state);
  for (let i = 0; i < n; i++) store<f64>(out + (<usize>i << 3), nextF64());
  leave(state);
}

@inline function uniformInto(out: usize, n: i32, lo: f32, hi: f32): void {
  const base = <f64>lo;
  const width = <f64>hi - base;
  for (let i = 0; i < n; i++) {
    let v = <f32>(base + width * (<f64>(next() >>> 8) * 5.9604644775390625e-8)); // 2^-24
    if (v >= hi) v = f32Below(hi);
    store<f32>(out + (<usize>i << 2), v);
  }
}

@inline function normalInto(out: usize, n: i32, mean: f64, std: f64): void {
  for (let i = 0; i < n; i += 2) {
    let a: f64, b: f64, s: f64;
    do {
      a = 2.0 * nextF64() - 1.0;
      b = 2.0 * nextF64() - 1.0;
      s = a * a + b * b;
    } while (s >= 1.0 || s == 0.0);
    const f = Math.sqrt(-2.0 * Math.log(s) / s);
    store<f32>(out + (<usize>i << 2), <f32>(mean + std * (a * f)));
    if (i + 1 < n) store<f32>(out + (<usize>(i + 1) << 2), <f32>(mean + std * (b * f)));
  }
}

// out[n] f32 = uniform [lo, hi); the host guarantees lo < hi, both finite.
export function f32_rand_uniform(state: usize, out: usize, n: i32, lo: f32, hi: f32): void {
  enter(state);
  uniformInto(out, n, lo, hi);
  leave(state);
}

// out[n] f32 = N(mean, std²) by the polar method; about 2.5 generator outputs per value.
export function f32_rand_normal(state: usize, out: usize, n: i32, mean: f32, std: f32): void {
  enter(state);
  normalInto(out, n, <f64>mean, <f64>std);
  leave(state);
}

// out[n] i32 = a uniformly random permutation of 0 … n−1 (unbiased Fisher–Yates).
export function i32_permutation(state: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), i);
  enter(state);
  for (let i = n - 1; i > 0; i--) {
    const j = <i32>bounded(<u32>(i + 1));
    const pi = out + (<usize>i << 2);
    const pj = out + (<usize>j << 2);
    const t = load<i32>(pi);
    store<i32>(pi, load<i32>(pj));
    store<i32>(pj, t);
  }
  leave(state);
}

// out[n] f32 = initial weights of a layer with fanIn inputs and fanOut outputs. kind:
//   0 glorot_uniform  U[−l, l), l = √(6 / (fanIn + fanOut))   (Glorot & Bengio 2010)
//   1 glorot_normal   N(0, 2 / (fanIn + fanOut)), untruncated as torch.nn.init.xavier_normal_
//   2 he_uniform      U[−l, l), l = √(6 / fanIn)              (He et al. 2015)
//   3 he_normal       N(0, 2 / fanIn), untruncated as torch.nn.init.kaiming_normal_
// Bounds and standard deviations are computed here in f64.
export function f32_init(state: usize, out: usize, n: i32, kind: i32, fanIn: i32, fanOut: i32): void {
  assert(kind >= INIT_GLOROT_UNIFORM && kind <= INIT_HE_NORMAL, "f32_init: kind must be 0..3");
  assert(fanIn > 0 && fanOut >= 0, "f32_init: fanIn must be > 0 and fanOut >= 0");
  const fanSum = <f64>fanIn + <f64>fanOut;
  enter(state);
  if (kind == INIT_GLOROT_UNIFORM || kind == INIT_HE_UNIFORM) {
    const limit = <f32>Math.sqrt(6.0 / (kind == INIT_GLOROT_UNIFORM ? fanSum : <f64>fanIn));
    uniformInto(out, n, -limit, limit);
  } else {
    normalInto(out, n, 0.0, Math.sqrt(2.0 / (kind == INIT_GLOROT_NORMAL ? fanSum : <f64>fanIn)));
  }
  leave(state);
}

// Inverted dropout over x[n] f32: mask[i] = kept ? 1/(1 − p) : 0 (as f32: 1.0f / f32(1 − p), the
// value PyTorch's noise.div_(1 − p) holds), y[i] = x[i]·mask[i]. p = 0 writes mask = 1, y = x and
// draws nothing, as PyTorch skips the RNG then; p = 1 drops everything. y may alias x.
export function f32_dropout_fwd(state: usize, y: usize, mask: usize, x: usize, n: i32, p: f32): void {
  if (p == 0) {
    for (let i = 0; i < n; i++) store<f32>(mask + (<usize>i << 2), 1.0);
    memory.copy(y, x, <usize>n << 2);
    return;
  }
  const scale: f32 = 1.0 / <f32>(1.0 - <f64>p);
  const cut = <f64>p * 4294967296.0;
  enter(state);
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const m = select<f32>(scale, 0, <f64>next() >= cut);
    store<f32>(mask + at, m);
    store<f32>(y + at, load<f32>(x + at) * m);
  }
  leave(state);
}

// dx[n] = dy[n]·mask[n] (mask from f32_dropout_fwd). v128 in steps of 4, scalar tail;
// f32_dropout_bwd_ref is the oracle (bit-identical: one multiply per element either way).
export function f32_dropout_bwd(dx: usize, dy: usize, mask: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  let at: usize = 0;
  for (; at < n4; at += 16) v128.store(dx + at, f32x4.mul(v128.load(dy + at), v128.load(mask + at)));
  const end = <usize>n << 2;
  for (; at < end; at += 4) store<f32>(dx + at, load<f32>(dy + at) * load<f32>(mask + at));
}

export function f32_dropout_bwd_ref(dx: usize, dy: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(dx + at, load<f32>(dy + at) * load<f32>(mask + at));
  }
}

// out[n] i32 = uniform integers in [lo, hi] (inclusive; the host guarantees lo <= hi and
// hi − lo < 2^32 − 1), by Lemire's bounded draw: augmentation shifts, flips, cutout centres.
export function i32_rand_int(state: usize, out: usize, n: i32, lo: i32, hi: i32): void {
  const range = <u32>(hi - lo) + 1;
  enter(state);
  for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), lo + <i32>bounded(range));
  leave(state);
}

// Gamma(a, 1) for a > 0 by Marsaglia & Tsang's squeeze method in f64 (a < 1 through
// Gamma(a + 1)·U^(1/a)); normals by the polar method, uniforms from nextF64.
// see: Marsaglia & Tsang, "A simple method for generating gamma variables", ACM TOMS 2000
function gammaF64(a: f64): f64 {
  let boost: f64 = 1;
  if (a < 1) {
    let u = nextF64();
    while (u == 0) u = nextF64();
    boost = Math.pow(u, 1.0 / a);
    a += 1;
  }
  const d = a - 1.0 / 3.0;
  const c = 1.0 / Math.sqrt(9.0 * d);
  while (true) {
    let x: f64, v: f64;
    do {
      let p: f64, q: f64, s: f64;
      do {
        p = 2.0 * nextF64() - 1.0;
        q = 2.0 * nextF64() - 1.0;
        s = p * p + q * q;
      } while (s >= 1.0 || s == 0.0);
      x = p * Math.sqrt(-2.0 * Math.log(s) / s);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = nextF64();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * boost;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1.0 - v + Math.log(v))) return d * v * boost;
  }
  return 0;
}

// out[n] f32 = Beta(a, b) draws, X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (a, b > 0, host-checked):
// the mixup weights λ ~ Beta(α, α).
export function f32_rand_beta(state: usize, out: usize, n: i32, a: f32, b: f32): void {
  enter(state);
  for (let i = 0; i < n; i++) {
    const x = gammaF64(<f64>a);
    const y = gammaF64(<f64>b);
    const t = x + y;
    store<f32>(out + (<usize>i << 2), t > 0 ? <f32>(x / t) : <f32>(nextF64() < 0.5 ? 0 : 1));
  }
  leave(state);
}
