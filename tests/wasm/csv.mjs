// Minimal CSV reading for the golden files (numeric cells, header row, no quoting).
import { readFileSync } from 'node:fs';

export function readCsv(path) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const columns = Object.fromEntries(header.map((h) => [h, []]));
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    header.forEach((h, i) => columns[h].push(cells[i]));
  }
  return { header, columns, rows: lines.length - 1 };
}

// Number() parses a decimal string to the nearest double, as strtod does natively.
export const numbers = (cells) => Float64Array.from(cells, (c) => (c === '' ? NaN : Number(c)));
