// Terminal tables whose columns line up whatever the values: each column is
// as wide as its widest cell, up to a maximum past which a cell is cut with
// an ellipsis (an actor or target can be arbitrarily long).

export interface Column {
  header: string;
  /** Widest a cell may be; longer ones end in "…". The last column is never padded or cut. */
  max?: number;
  align?: 'left' | 'right';
}

export function fit(text: string, max: number | undefined): string {
  const chars = [...text];
  return max === undefined || chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** The header line and one line per row, columns separated by two spaces. */
export function renderTable(columns: Column[], rows: string[][]): string[] {
  const last = columns.length - 1;
  const cells = [columns.map((c) => c.header), ...rows].map((row) => row.map((v, i) => (i === last ? v : fit(v, columns[i].max))));
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => [...(row[i] ?? '')].length)));
  return cells.map((row) => row.map((v, i) => {
    if (i === last) return v;
    const pad = ' '.repeat(widths[i] - [...v].length);
    return columns[i].align === 'right' ? pad + v : v + pad;
  }).join('  ').trimEnd());
}
