import { GenerationInputError } from '../errors.js';

/**
 * For each of `rows` hypotheses (the batch expanded by beams or returned sequences, row-major), the
 * index of the prompt it continues.
 */
export function promptRowOfHypotheses(rows: number, promptRows: number): number[] {
  if (rows % promptRows !== 0) {
    throw new GenerationInputError(`${rows} score rows cannot continue ${promptRows} encoder input rows`);
  }
  const perPrompt = rows / promptRows;
  return Array.from({ length: rows }, (_, row) => Math.floor(row / perPrompt));
}
