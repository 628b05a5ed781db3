// The argument check every metric shares.

/** Checks that yTrue and yPred have the same, non-zero length; returns it. */
export function checkPair(where: string, yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  if (yTrue.length !== yPred.length) throw new RangeError(`${where}: yTrue has ${yTrue.length} values, yPred has ${yPred.length}`);
  if (yTrue.length === 0) throw new RangeError(`${where}: needs at least one row, got 0`);
  return yTrue.length;
}
