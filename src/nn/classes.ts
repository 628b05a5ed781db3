// Turning model outputs into class ids, the one rule every model kind shares.

/** The class of each row of `outputs` ([rows, cols] row-major): the first largest value, or for a
 *  single output column (a binary model) 1 when the value reaches `threshold`. */
export function classesOf(outputs: ArrayLike<number>, cols: number, threshold = 0.5): Int32Array {
  const rows = outputs.length / cols;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    if (cols === 1) {
      out[i] = outputs[i]! >= threshold ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < cols; c++) if (outputs[i * cols + c]! > outputs[i * cols + best]!) best = c;
    out[i] = best;
  }
  return out;
}
