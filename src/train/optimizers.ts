// Optimizer factories: small option objects with PyTorch's defaults, turned into the update rule
// the core runs over the whole parameter arena in one call.
// see: SGD with momentum/Nesterov as in torch.optim.SGD; Adam, arXiv:1412.6980; AdamW, arXiv:1711.05101
import { checkKnownKeys, checkNumber } from '../core/errors.ts';
import type { UpdateRule } from '../core/layer-engine.ts';
import { checkSchedule, type Schedule } from './schedules.ts';

/** An update rule with its hyperparameters, as `gd`, `sgd`, `adam` and `adamw` make it. */
export interface Optimizer {
  readonly name: 'gd' | 'sgd' | 'adam' | 'adamw';
  readonly lr: number;
  readonly rule: UpdateRule;
  readonly schedule: Schedule;
  /** Clip gradients to this global L2 norm before each update (Infinity: no clipping). */
  readonly clipNorm: number;
}

interface Common {
  lr?: number;
  schedule?: Schedule;
  clipNorm?: number;
  weightDecay?: number;
  /** Adapt the learning rate online by hypergradient descent with hyper-rate `beta`: `lr` is
   *  the initial rate and the schedule must stay constant. The paper's settings: β = 1e-3 for
   *  SGD, 1e-7 for Adam. see: Baydin et al., arXiv:1703.04782 */
  hypergradient?: { beta: number };
}
/** Options of `sgd`: momentum, dampening and Nesterov momentum. */
export interface SgdOptions extends Common {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}
/** Options of `adam` and `adamw`: moment decay rates and epsilon. */
export interface AdamOptions extends Common {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

const COMMON = ['lr', 'schedule', 'clipNorm', 'weightDecay', 'hypergradient'];

function common(where: string, o: Common, lrDefault: number, wdDefault: number) {
  return {
    lr: checkNumber(where, 'lr', o.lr ?? lrDefault, 0),
    schedule: checkSchedule(where, o.schedule ?? { type: 'constant' }),
    clipNorm: o.clipNorm === undefined ? Infinity : checkNumber(where, 'clipNorm', o.clipNorm, Number.MIN_VALUE),
    weightDecay: checkNumber(where, 'weightDecay', o.weightDecay ?? wdDefault, 0),
  };
}

function hypergradient(where: string, o: Common): { hypergradient?: { beta: number } } {
  if (o.hypergradient === undefined) return {};
  checkKnownKeys(`${where} hypergradient`, o.hypergradient, ['beta']);
  const beta = checkNumber(`${where} hypergradient`, 'beta', o.hypergradient.beta, 0);
  if ((o.schedule?.type ?? 'constant') !== 'constant')
    throw new RangeError(
      `${where}: hypergradient adapts the learning rate itself; the schedule must be constant, got '${o.schedule!.type}'`,
    );
  return { hypergradient: { beta } };
}

/** Mini-batch SGD with optional momentum and Nesterov momentum (PyTorch's formulation).
 *  @example fit(model, data, { optimizer: sgd({ lr: 0.05, momentum: 0.9, nesterov: true }) }) */
export function sgd(options: SgdOptions = {}): Optimizer {
  checkKnownKeys('sgd', options, [...COMMON, 'momentum', 'dampening', 'nesterov']);
  const c = common('sgd', options, 0.01, 0);
  const momentum = checkNumber('sgd', 'momentum', options.momentum ?? 0, 0);
  const dampening = checkNumber('sgd', 'dampening', options.dampening ?? 0, 0, 1);
  const nesterov = options.nesterov ?? false;
  if (nesterov && (momentum <= 0 || dampening !== 0))
    throw new RangeError(`sgd: nesterov needs momentum > 0 and dampening = 0, got momentum=${momentum}, dampening=${dampening}`);
  return {
    name: 'sgd',
    lr: c.lr,
    schedule: c.schedule,
    clipNorm: c.clipNorm,
    rule: { kind: 'sgd', momentum, dampening, nesterov, weightDecay: c.weightDecay, ...hypergradient('sgd', options) },
  };
}

/** Full-batch gradient descent: plain SGD steps over the whole training set (fit uses one batch
 *  per epoch with this optimizer). */
export function gd(options: Common = {}): Optimizer {
  checkKnownKeys('gd', options, COMMON);
  return { ...sgd(options), name: 'gd' };
}

function adamFamily(name: 'adam' | 'adamw', options: AdamOptions, wdDefault: number): Optimizer {
  checkKnownKeys(name, options, [...COMMON, 'beta1', 'beta2', 'eps']);
  const c = common(name, options, 1e-3, wdDefault);
  const beta1 = checkNumber(name, 'beta1', options.beta1 ?? 0.9, 0, 0.999999);
  const beta2 = checkNumber(name, 'beta2', options.beta2 ?? 0.999, 0, 0.999999999);
  const eps = checkNumber(name, 'eps', options.eps ?? 1e-8, 0);
  return {
    name,
    lr: c.lr,
    schedule: c.schedule,
    clipNorm: c.clipNorm,
    rule: { kind: 'adam', beta1, beta2, eps, weightDecay: c.weightDecay, decoupled: name === 'adamw', ...hypergradient(name, options) },
  };
}

/** Adam with bias correction; weightDecay is L2 added to the gradient (torch.optim.Adam). */
export const adam = (options: AdamOptions = {}): Optimizer => adamFamily('adam', options, 0);

/** AdamW: decoupled weight decay, default 0.01 (torch.optim.AdamW). */
export const adamw = (options: AdamOptions = {}): Optimizer => adamFamily('adamw', options, 0.01);

export const OPTIMIZERS = { gd, sgd, adam, adamw } as const;

/** The options `OPTIMIZERS[optimizer.name]` rebuilds `optimizer` from: its settings as plain
 *  data, e.g. to store them beside a saved optimizer state. */
export function optimizerOptions(optimizer: Optimizer): SgdOptions | AdamOptions {
  const { rule } = optimizer;
  const common: Common = {
    lr: optimizer.lr,
    schedule: optimizer.schedule,
    ...(optimizer.clipNorm === Infinity ? {} : { clipNorm: optimizer.clipNorm }),
    weightDecay: rule.weightDecay,
    ...(rule.hypergradient ? { hypergradient: { beta: rule.hypergradient.beta } } : {}),
  };
  if (rule.kind === 'adam') return { ...common, beta1: rule.beta1, beta2: rule.beta2, eps: rule.eps };
  if (optimizer.name === 'gd') return common;
  return { ...common, momentum: rule.momentum, dampening: rule.dampening, nesterov: rule.nesterov };
}
