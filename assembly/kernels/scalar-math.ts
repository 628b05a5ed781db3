// Scalar f64 math for the host. JS engines may differ in the last bit of Math.exp/log/cos/pow
// (V8 and JavaScriptCore use different libms); the host calls these instead wherever a result
// feeds numbers that must be identical in every runtime (learning-rate schedules, samplers).
export function f64_exp(x: f64): f64 { return Math.exp(x); }
export function f64_log(x: f64): f64 { return Math.log(x); }
export function f64_pow(x: f64, y: f64): f64 { return Math.pow(x, y); }
export function f64_cos(x: f64): f64 { return Math.cos(x); }
export function f64_sin(x: f64): f64 { return Math.sin(x); }
export function f64_tanh(x: f64): f64 { return Math.tanh(x); }
