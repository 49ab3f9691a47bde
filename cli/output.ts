/** How flowctl prints: tables and colours for people (colours only on a terminal), JSON or YAML for scripts. */
import { stringify } from 'yaml';

export type Format = 'table' | 'json' | 'yaml';

export interface Out {
  format: Format;
  tty: boolean;
  line: (text?: string) => void;
  /** Status lines (progress) go to stderr when stdout is for data. */
  note: (text: string) => void;
  data: (value: unknown) => void;
  /** `value` as JSON or YAML for scripts, otherwise what `human` prints. */
  show: (value: unknown, human: () => void) => void;
  color: (code: keyof typeof CODES, text: string) => string;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, gray: 90, bold: 1 } as const;

export function createOut(format: Format, stream: NodeJS.WriteStream = process.stdout): Out {
  const tty = Boolean(stream.isTTY) && !process.env.NO_COLOR;
  const data = (value: unknown) =>
    void stream.write(format === 'yaml' ? stringify(value) : `${JSON.stringify(value, null, 2)}\n`);
  return {
    format,
    tty,
    line: (text = '') => void stream.write(`${text}\n`),
    note: (text) => void (format === 'table' ? stream : process.stderr).write(`${text}\n`),
    data,
    show: (value, human) => (format === 'table' ? human() : data(value)),
    color: (code, text) => (tty ? `\u001b[${CODES[code]}m${text}\u001b[0m` : text),
  };
}

/** A plain-text table: one header row, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  // eslint-disable-next-line no-control-regex -- measuring text without its colour codes
  const width = (text: string) => text.replace(/\u001b\[\d+m/g, '').length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell))))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)].join('\n');
}

export const duration = (ms: number) =>
  ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms / 1000)} s`;
