// Raw rows to a model's inputs, by column name, from what the model file keeps: the one function
// every predict path (library, command line) calls before the model's own standardisation.
import { TableEncoder, type TableEncoderJSON } from './table-encoder.ts';
import { tableFromRecords, type Table } from './table.ts';

/** The part of a model's preprocessing that says how raw rows become inputs. */
export interface InputDescription {
  /** A fitted table encoder (models trained on tables). */
  readonly table?: TableEncoderJSON;
  /** Names of the numeric inputs (models trained on numeric matrices). */
  readonly featureNames?: readonly string[];
}

/** A model's inputs for some raw rows, and what a user should hear about how they were read. */
export interface TableInputs {
  /** Row-major [rows, inputs]. */
  features: Float32Array;
  /** One line each: columns ignored, or columns taken by position. */
  notes: string[];
}

/** The encoder a model's preprocessing describes: its saved table encoder, or a by-name
 *  numeric reader over its feature names. Throws when the model has neither. */
export function inputEncoder(description: InputDescription): TableEncoder {
  if (description.table !== undefined) return TableEncoder.fromJSON(description.table);
  if (description.featureNames !== undefined && description.featureNames.length > 0) return TableEncoder.numeric(description.featureNames);
  throw new TypeError(
    'tableInputs: the model keeps no column names (no table encoder, no feature names), so rows cannot be matched to its inputs by name; pass numbers to predict() instead',
  );
}

/**
 * Encodes raw rows (a Table, or records keyed by column name) into the inputs of the model whose
 * preprocessing is `description`, matching columns BY NAME: any column order gives the same
 * inputs; a missing column is a RangeError naming it; columns the model never saw are skipped
 * with one note. A table without a header (`hasHeader` false) is accepted only when its width
 * is that of the training table, with or without its label column, and is then mapped by
 * position, with a note saying so.
 *
 * @example
 * const { features } = tableInputs(model.preprocessing, [{ city: 'Oslo', age: 40, notes: 'likes long walks' }]);
 * const probabilities = model.predict(features);
 */
export function tableInputs(description: InputDescription, rows: Table | readonly Readonly<Record<string, unknown>>[]): TableInputs {
  const encoder = inputEncoder(description);
  const { table, notes } = namedColumns(Array.isArray(rows) ? tableFromRecords(rows) : (rows as Table), encoder);
  return { features: encoder.transform(table), notes: [...notes, ...unusedColumnsNote(table, encoder)] };
}

/** `table` with the encoder's training column names when it has no header (by position, when
 *  the width allows), with a note saying so. */
export function namedColumns(table: Table, encoder: TableEncoder): { table: Table; notes: string[] } {
  const notes: string[] = [];
  if (!table.hasHeader) {
    const { sourceColumns, label } = encoder.json;
    const features = sourceColumns.filter((n) => !label.includes(n));
    const width = table.names.length;
    const names = width === sourceColumns.length ? sourceColumns : width === features.length ? features : undefined;
    if (!names) {
      throw new RangeError(
        `tableInputs: the rows have no header and ${width} columns; without a header they can only be matched by position to the ${features.length} training columns (${features.join(', ')})${label.length ? ` or those ${sourceColumns.length} with the label` : ''}`,
      );
    }
    table = { ...table, names, hasHeader: true };
    notes.push(`no header: columns taken by position as in training (${names.join(', ')})`);
  }
  return { table, notes };
}

/** A note on the columns of `table` the encoder never saw in training (none when all are known),
 *  leaving out `used` ones (a label read by the caller). */
export function unusedColumnsNote(table: Table, encoder: TableEncoder, used: readonly string[] = []): string[] {
  const extra = encoder.extraColumns(table).filter((n) => !used.includes(n));
  return extra.length > 0
    ? [`ignored ${extra.length} column${extra.length > 1 ? 's' : ''} the model does not use: ${extra.join(', ')}`]
    : [];
}
