// Scalar math the kernels share, compiled into the core so every engine computes the same bits.
// exp, log, log1p and tanh come from AssemblyScript's std (musl ports, pure WASM, no imports);
// erf and erfc, which std lacks, are ported below from fdlibm. All of it is f64: kernels that
// need a transcendental compute it in f64 and round once to f32, which is both accurate and
// the same on every engine (WASM f64 arithmetic is IEEE-exact; no FMA contraction exists).
//
// see: fdlibm s_erf.c 1.3 95/01/18, whose notice follows as its licence asks.
// ====================================================
// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//
// Developed at SunSoft, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this
// software is freely granted, provided that this notice
// is preserved.
// ====================================================

// erx = (float)0.84506291151: erf(1) split so that erx + P/Q is accurate on [0.84375, 1.25).
const ERX: f64 = 8.45062911510467529297e-01;
const EFX: f64 = 1.28379167095512586316e-01; // 2/√π − 1
const EFX8: f64 = 1.02703333676410069053e+00; // 8·EFX

// erf(x) = x + x·R(x²)/S(x²) on |x| < 0.84375.
const PP0: f64 = 1.28379167095512558561e-01;
const PP1: f64 = -3.25042107247001499370e-01;
const PP2: f64 = -2.84817495755985104766e-02;
const PP3: f64 = -5.77027029648944159157e-03;
const PP4: f64 = -2.37630166566501626084e-05;
const QQ1: f64 = 3.97917223959155352819e-01;
const QQ2: f64 = 6.50222499887672944485e-02;
const QQ3: f64 = 5.08130628187576562776e-03;
const QQ4: f64 = 1.32494738004321644526e-04;
const QQ5: f64 = -3.96022827877536812320e-06;

// erf(1+s) = erx + P(s)/Q(s) on 0.84375 <= |x| < 1.25.
const PA0: f64 = -2.36211856075265944077e-03;
const PA1: f64 = 4.14856118683748331666e-01;
const PA2: f64 = -3.72207876035701323847e-01;
const PA3: f64 = 3.18346619901161753674e-01;
const PA4: f64 = -1.10894694282396677476e-01;
const PA5: f64 = 3.54783043256182359371e-02;
const PA6: f64 = -2.16637559486879084300e-03;
const QA1: f64 = 1.06420880400844228286e-01;
const QA2: f64 = 5.40397917702171048937e-01;
const QA3: f64 = 7.18286544141962662868e-02;
const QA4: f64 = 1.26171219808761642112e-01;
const QA5: f64 = 1.36370839120290507362e-02;
const QA6: f64 = 1.19844998467991074170e-02;

// erfc(x) = exp(−x²−0.5625 + R/S)/x on 1.25 <= |x| < 1/0.35.
const RA0: f64 = -9.86494403484714822705e-03;
const RA1: f64 = -6.93858572707181764372e-01;
const RA2: f64 = -1.05586262253232909814e+01;
const RA3: f64 = -6.23753324503260060396e+01;
const RA4: f64 = -1.62396669462573470355e+02;
const RA5: f64 = -1.84605092906711035994e+02;
const RA6: f64 = -8.12874355063065934246e+01;
const RA7: f64 = -9.81432934416914548592e+00;
const SA1: f64 = 1.96512716674392571292e+01;
const SA2: f64 = 1.37657754143519042600e+02;
const SA3: f64 = 4.34565877475229228821e+02;
const SA4: f64 = 6.45387271733267880336e+02;
const SA5: f64 = 4.29008140027567833386e+02;
const SA6: f64 = 1.08635005541779435134e+02;
const SA7: f64 = 6.57024977031928170135e+00;
const SA8: f64 = -6.04244152148580987438e-02;

// The same form on 1/0.35 <= |x| < 28.
const RB0: f64 = -9.86494292470009928597e-03;
const RB1: f64 = -7.99283237680523006574e-01;
const RB2: f64 = -1.77579549177547519889e+01;
const RB3: f64 = -1.60636384855821916062e+02;
const RB4: f64 = -6.37566443368389627722e+02;
const RB5: f64 = -1.02509513161107724954e+03;
const RB6: f64 = -4.83519191608651397019e+02;
const SB1: f64 = 3.03380607434824582924e+01;
const SB2: f64 = 3.25792512996573918826e+02;
const SB3: f64 = 1.53672958608443695994e+03;
const SB4: f64 = 3.19985821950859553908e+03;
const SB5: f64 = 2.55305040643316442583e+03;
const SB6: f64 = 4.74528541206955367215e+02;
const SB7: f64 = -2.24409524465858183362e+01;

// High word of |x|: fdlibm picks its interval from it.
@inline function highAbs(x: f64): u32 {
  return <u32>(reinterpret<u64>(x) >>> 32) & 0x7fffffff;
}

// x·R(x²)/S(x²), the correction erf(x) = x + x·y on |x| < 0.84375.
@inline function smallCorrection(x: f64): f64 {
  const z = x * x;
  const r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
  const s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
  return x * (r / s);
}

// P/Q on 0.84375 <= |x| < 1.25, with erf(|x|) = erx + P/Q.
@inline function midRatio(ax: f64): f64 {
  const s = ax - 1.0;
  const p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
  const q = 1.0 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
  return p / q;
}

// erfc(ax) for 1.25 <= ax < 28. exp(−ax²) is split as exp(−z²−0.5625)·exp((z−ax)(z+ax)+R/S),
// with z = ax with its low 32 bits cleared, so z² is exact and the large exponent loses nothing.
function erfcTail(ax: f64): f64 {
  const s = 1.0 / (ax * ax);
  let r: f64, q: f64;
  if (highAbs(ax) < 0x4006db6d) {
    r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
    q = 1.0 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
  } else {
    r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
    q = 1.0 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
  }
  const z = reinterpret<f64>(reinterpret<u64>(ax) & 0xffffffff00000000);
  return Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + r / q) / ax;
}

// Error function, |error| < 1 ulp (fdlibm). erf(±∞) = ±1, erf(NaN) = NaN.
export function f64_erf(x: f64): f64 {
  const ix = highAbs(x);
  if (ix >= 0x7ff00000) return x != x ? x : (x > 0 ? 1.0 : -1.0);
  if (ix < 0x3feb0000) {
    // Below 2^-28 the correction is x·efx; the 8× detour keeps subnormal x from underflowing.
    if (ix < 0x3e300000) return ix < 0x00800000 ? 0.125 * (8.0 * x + EFX8 * x) : x + EFX * x;
    return x + smallCorrection(x);
  }
  const ax = Math.abs(x);
  let y: f64;
  if (ix < 0x3ff40000) y = ERX + midRatio(ax);
  else if (ix >= 0x40180000) y = 1.0; // erfc(6) < 2^-53: erf rounds to 1
  else y = 1.0 - erfcTail(ax);
  return x < 0 ? -y : y;
}

// Complementary error function 1 − erf(x), accurate in the far tail where 1 − erf loses
// everything: erfc(10) = 2.1e-45 instead of 0. erfc(+∞) = 0, erfc(−∞) = 2.
export function f64_erfc(x: f64): f64 {
  const ix = highAbs(x);
  if (ix >= 0x7ff00000) return x != x ? x : (x > 0 ? 0.0 : 2.0);
  if (ix < 0x3feb0000) {
    if (ix < 0x3c700000) return 1.0 - x;
    const xy = smallCorrection(x);
    // Below 1/4, 1 − (x + xy) is exact enough; above, regroup so the cancellation happens last.
    if (x < 0.25) return 1.0 - (x + xy);
    return 0.5 - (xy + (x - 0.5));
  }
  if (ix < 0x3ff40000) {
    const pq = midRatio(Math.abs(x));
    return x >= 0 ? (1.0 - ERX) - pq : 1.0 + (ERX + pq);
  }
  if (ix < 0x403c0000) {
    if (x < 0 && ix >= 0x40180000) return 2.0; // x < −6: erfc = 2 − tiny
    const t = erfcTail(Math.abs(x));
    return x > 0 ? t : 2.0 - t;
  }
  return x > 0 ? 0.0 : 2.0; // |x| >= 28: below the smallest subnormal, or 2 − tiny
}

// Logistic function without overflow: exp is only ever taken of a non-positive number.
export function f64_sigmoid(x: f64): f64 {
  if (x >= 0) return 1.0 / (1.0 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1.0 + e);
}

// log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): never overflows, and exact-ish for large |x|.
export function f64_softplus(x: f64): f64 {
  return Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x)));
}
