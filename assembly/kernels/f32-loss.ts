// Losses with mean reduction, matching PyTorch's definitions. Each returns the loss as f32 and,
// when the first pointer is not 0, writes the gradient of that returned mean loss (so a training
// step uses it as is). All arithmetic past the f32 inputs is f64 with a fixed, sequential order;
// each gradient element and the loss round once to f32. An empty batch gives NaN, as PyTorch's
// mean does. Gradients may alias their logits/prediction input: each row is read before written.
// The _ref twins compute the same quantities through the textbook formulas (separately summed
// terms, explicit target distributions), so a bug in the fused algebra shows up as a mismatch.
import { f64_sigmoid, f64_softplus } from "./math";
import { f32_max, f32_max_ref } from "./f32-reduce";

// logsumexp_j(x_j·invT) over one row; m = max·invT is exact in f64 for invT > 0.
@inline function logSumExp(x: usize, cols: i32, invT: f64, ref: bool): f64 {
  const m = <f64>(ref ? f32_max_ref(x, cols) : f32_max(x, cols)) * invT;
  let s: f64 = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(<f64>load<f32>(x + (<usize>j << 2)) * invT - m);
  return m + Math.log(s);
}

// Promotes lanes 2 and 3 of four f32 to f64x2.
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

// MSELoss: (1/n)·Σ (pred − target)², dpred = 2(pred − target)/n. pred, target, dpred: f32[n].
// Differences and squares in f64x2 lanes: element i goes to lane i mod 4 for the first 4·⌊n/4⌋
// elements, lanes combine as (l0 + l1) + (l2 + l3), the tail adds sequentially. Gradients are the
// same bits as f32_mse_ref; the loss agrees with its sequential sum to f64 rounding.
export function f32_mse(dpred: usize, pred: usize, target: usize, n: i32): f32 {
  const g = 2.0 / <f64>n;
  const vg = f64x2.splat(g);
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const vp = v128.load(pred + o);
    const vt = v128.load(target + o);
    const dlo = f64x2.sub(f64x2.promote_low_f32x4(vp), f64x2.promote_low_f32x4(vt));
    const dhi = f64x2.sub(promoteHigh(vp), promoteHigh(vt));
    lo = f64x2.add(lo, f64x2.mul(dlo, dlo));
    hi = f64x2.add(hi, f64x2.mul(dhi, dhi));
    if (dpred != 0) {
      const glo = f32x4.demote_f64x2_zero(f64x2.mul(dlo, vg));
      const ghi = f32x4.demote_f64x2_zero(f64x2.mul(dhi, vg));
      v128.store(dpred + o, v128.shuffle<f32>(glo, ghi, 0, 1, 4, 5));
    }
  }
  let s = (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = <f64>load<f32>(pred + o) - <f64>load<f32>(target + o);
    s += d * d;
    if (dpred != 0) store<f32>(dpred + o, <f32>(d * g));
  }
  return <f32>(s / <f64>n);
}

export function f32_mse_ref(dpred: usize, pred: usize, target: usize, n: i32): f32 {
  const g = 2.0 / <f64>n;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const d = <f64>load<f32>(pred + o) - <f64>load<f32>(target + o);
    s += d * d;
    if (dpred != 0) store<f32>(dpred + o, <f32>(d * g));
  }
  return <f32>(s / <f64>n);
}

@inline function labelAt(labels: usize, i: i32, C: i32): i32 {
  const y = load<i32>(labels + (<usize>i << 2));
  assert(<u32>y < <u32>C, "label out of range [0, C)");
  return y;
}

@inline function weightAt(w: usize, c: i32): f64 {
  return w != 0 ? <f64>load<f32>(w + (<usize>c << 2)) : 1.0;
}

// CrossEntropyLoss(weight = w, label_smoothing = ε, reduction = 'mean') on logits f32[B, C]
// (row-major) and labels i32[B] in [0, C); classWeights f32[C] or 0 for none. As PyTorch composes
// it (LossNLL.cpp, cross_entropy_loss_label_smoothing), with W = Σ_i w[y_i] (B when unweighted):
//   loss = (1 − ε)·Σ_i w[y_i]·(−log p_i[y_i]) / W  +  (ε/C)·Σ_i Σ_c w[c]·(−log p_i[c]) / W
// i.e. the smoothing term is weighted per class c (not per label) yet still divided by the label
// weight sum W. Its gradient, with S = Σ_c w[c] and δ the one-hot of y_i:
//   dlogits[i, j] = ((1 − ε)·w[y_i]·(p_ij − δ_j) + (ε/C)·(S·p_ij − w[j])) / W
// Unweighted this is (p_ij − q_ij)/B with q = (1 − ε)·δ + ε/C. When ε = 0 the smoothing term is
// skipped entirely, so logits of −Infinity on non-target classes stay finite, as in PyTorch.
// Per row: max (v128), then log-sum-exp and one pass of p_ij = exp(z_ij − lse) in f64.
export function f32_softmax_xent(dlogits: usize, logits: usize, labels: usize, B: i32, C: i32, smoothing: f32, classWeights: usize): f32 {
  const eps = <f64>smoothing;
  const a = 1.0 - eps;
  const b = eps / <f64>C;
  let W: f64 = 0;
  for (let i = 0; i < B; i++) W += weightAt(classWeights, labelAt(labels, i, C));
  let S: f64 = 0;
  for (let c = 0; c < C; c++) S += weightAt(classWeights, c);
  const invW = 1.0 / W;
  const stride = <usize>C << 2;
  let total: f64 = 0;
  for (let i = 0; i < B; i++) {
    const zr = logits + <usize>i * stride;
    const dr = dlogits + <usize>i * stride;
    const y = labelAt(labels, i, C);
    const wy = weightAt(classWeights, y);
    const lse = logSumExp(zr, C, 1.0, false);
    let rowLoss = a * wy * (lse - <f64>load<f32>(zr + (<usize>y << 2)));
    let smooth: f64 = 0;
    for (let j = 0; j < C; j++) {
      const o = <usize>j << 2;
      const z = <f64>load<f32>(zr + o);
      const wj = weightAt(classWeights, j);
      if (b != 0) smooth += wj * (lse - z);
      if (dlogits != 0) {
        const p = Math.exp(z - lse);
        let g = a * wy * (j == y ? p - 1.0 : p);
        if (b != 0) g += b * (S * p - wj);
        store<f32>(dr + o, <f32>(g * invW));
      }
    }
    if (b != 0) rowLoss += b * smooth;
    total += rowLoss;
  }
  return <f32>(total * invW);
}

export function f32_softmax_xent_ref(dlogits: usize, logits: usize, labels: usize, B: i32, C: i32, smoothing: f32, classWeights: usize): f32 {
  const eps = <f64>smoothing;
  let W: f64 = 0;
  let S: f64 = 0;
  for (let c = 0; c < C; c++) S += weightAt(classWeights, c);
  let nll: f64 = 0;
  let smooth: f64 = 0;
  for (let i = 0; i < B; i++) {
    const zr = logits + <usize>i * (<usize>C << 2);
    const y = labelAt(labels, i, C);
    const wy = weightAt(classWeights, y);
    W += wy;
    const lse = logSumExp(zr, C, 1.0, true);
    nll += wy * -(<f64>load<f32>(zr + (<usize>y << 2)) - lse);
    if (eps != 0) for (let c = 0; c < C; c++) smooth += weightAt(classWeights, c) * -(<f64>load<f32>(zr + (<usize>c << 2)) - lse);
  }
  if (dlogits != 0) {
    for (let i = 0; i < B; i++) {
      const zr = logits + <usize>i * (<usize>C << 2);
      const y = labelAt(labels, i, C);
      const wy = weightAt(classWeights, y);
      const m = <f64>f32_max_ref(zr, C);
      let s: f64 = 0;
      for (let c = 0; c < C; c++) s += Math.exp(<f64>load<f32>(zr + (<usize>c << 2)) - m);
      for (let j = 0; j < C; j++) {
        const p = Math.exp(<f64>load<f32>(zr + (<usize>j << 2)) - m) / s;
        // Gradient of Σ_c q_c·(−w_c' log p_c) with the target mass split into the label part and
        // the uniform part, each weighted as the loss weights it.
        let g = (1.0 - eps) * wy * (p - (j == y ? 1.0 : 0.0));
        if (eps != 0) g += (eps / <f64>C) * (S * p - weightAt(classWeights, j));
        store<f32>(dlogits + <usize>i * (<usize>C << 2) + (<usize>j << 2), <f32>(g / W));
      }
    }
  }
  let loss = (1.0 - eps) * nll / W;
  if (eps != 0) loss += smooth / W * (eps / <f64>C);
  return <f32>loss;
}

// BCEWithLogitsLoss(pos_weight = pw, reduction = 'mean') on logits and targets f32[n] (targets in
// [0, 1], soft targets allowed); pw = 1 for none. PyTorch's stable form, with lw = 1 + (pw − 1)·t:
//   loss_i = (1 − t)·x + lw·softplus(−x),   dlogits_i = (lw·σ(x) − pw·t) / n
// softplus and σ never exponentiate a positive number, so logits of ±1e4 stay finite.
export function f32_bce_logits(dlogits: usize, logits: usize, targets: usize, n: i32, posWeight: f32): f32 {
  const pw = <f64>posWeight;
  const invN = 1.0 / <f64>n;
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const x = <f64>load<f32>(logits + o);
    const t = <f64>load<f32>(targets + o);
    const lw = 1.0 + (pw - 1.0) * t;
    total += (1.0 - t) * x + lw * f64_softplus(-x);
    if (dlogits != 0) store<f32>(dlogits + o, <f32>((lw * f64_sigmoid(x) - pw * t) * invN));
  }
  return <f32>(total * invN);
}

// −[pw·t·log σ(x) + (1 − t)·log σ(−x)] with log σ(u) = −softplus(−u); d/dx = (1 − t)·σ(x) − pw·t·σ(−x).
export function f32_bce_logits_ref(dlogits: usize, logits: usize, targets: usize, n: i32, posWeight: f32): f32 {
  const pw = <f64>posWeight;
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const x = <f64>load<f32>(logits + o);
    const t = <f64>load<f32>(targets + o);
    total += pw * t * f64_softplus(-x) + (1.0 - t) * f64_softplus(x);
    if (dlogits != 0) store<f32>(dlogits + o, <f32>(((1.0 - t) * f64_sigmoid(x) - pw * t * f64_sigmoid(-x)) / <f64>n));
  }
  return <f32>(total / <f64>n);
}

// Knowledge distillation (Hinton et al. 2015) on student and teacher logits f32[B, C]:
//   loss = T²·(1/B)·Σ_b KL(softmax(t_b/T) ‖ softmax(s_b/T)),  dstudent = T·(softmax(s/T) − softmax(t/T))/B
// = PyTorch kl_div(log_softmax(s/T), softmax(t/T), reduction='batchmean')·T². KL is summed as
// Σ p_t·(log p_t − log p_s) with both logs from log-sum-exp (never log of a rounded p), and classes
// the teacher gives probability 0 contribute 0, as kl_div's xlogy does. T > 0 (host-checked).
// see: Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531
export function f32_kl_distill(dstudent: usize, student: usize, teacher: usize, B: i32, C: i32, T: f32): f32 {
  const t = <f64>T;
  const invT = 1.0 / t;
  const gscale = t / <f64>B;
  const stride = <usize>C << 2;
  let total: f64 = 0;
  for (let b = 0; b < B; b++) {
    const sr = student + <usize>b * stride;
    const tr = teacher + <usize>b * stride;
    const dr = dstudent + <usize>b * stride;
    const lseS = logSumExp(sr, C, invT, false);
    const lseT = logSumExp(tr, C, invT, false);
    let kl: f64 = 0;
    for (let j = 0; j < C; j++) {
      const o = <usize>j << 2;
      const lps = <f64>load<f32>(sr + o) * invT - lseS;
      const lpt = <f64>load<f32>(tr + o) * invT - lseT;
      const pt = Math.exp(lpt);
      if (pt > 0) kl += pt * (lpt - lps);
      if (dstudent != 0) store<f32>(dr + o, <f32>((Math.exp(lps) - pt) * gscale));
    }
    total += kl;
  }
  return <f32>(total * t * t / <f64>B);
}

// Cross-entropy minus entropy, probabilities normalised by an explicit division.
export function f32_kl_distill_ref(dstudent: usize, student: usize, teacher: usize, B: i32, C: i32, T: f32): f32 {
  const t = <f64>T;
  let cross: f64 = 0;
  let entropy: f64 = 0;
  for (let b = 0; b < B; b++) {
    const sr = student + <usize>b * (<usize>C << 2);
    const tr = teacher + <usize>b * (<usize>C << 2);
    const lseS = logSumExp(sr, C, 1.0 / t, true);
    const lseT = logSumExp(tr, C, 1.0 / t, true);
    for (let j = 0; j < C; j++) {
      const o = <usize>j << 2;
      const lps = <f64>load<f32>(sr + o) / t - lseS;
      const lpt = <f64>load<f32>(tr + o) / t - lseT;
      const pt = Math.exp(lpt);
      if (pt > 0) {
        cross -= pt * lps;
        entropy -= pt * lpt;
      }
      if (dstudent != 0) store<f32>(dstudent + <usize>b * (<usize>C << 2) + o, <f32>(t * (Math.exp(lps) - pt) / <f64>B));
    }
  }
  return <f32>((cross - entropy) / <f64>B * t * t);
}
