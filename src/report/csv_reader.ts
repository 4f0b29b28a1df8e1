/**
 * Streams a CSV file row by row without holding it in memory: requests.csv can have a million
 * rows. Columns are found by header name (order and extra columns do not matter); a missing
 * column or a bad number is an error naming the file, line and column.
 */
import { readFailure, RunInputError } from "./errors.ts";

/** One data row: `text(i)` and `number(i)` by column index (from `columns`). */
export interface CsvRow {
  readonly line: number;
  text(column: number): string;
  number(column: number): number;
}

/** Splits one CSV line; quoted fields ("a,b", "say ""hi""") only cost when present. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let field = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') field += '"', i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") out.push(field), field = "";
    else field += c;
  }
  out.push(field);
  return out;
}

/**
 * Reads `path`, checks that its header has every name in `required`, and calls `onRow` for each
 * non-empty data row with the column indexes of `required` then of `optional` (-1 if absent).
 */
export async function readCsv(
  path: string,
  required: readonly string[],
  optional: readonly string[],
  onRow: (row: CsvRow, columns: readonly number[]) => void,
): Promise<number> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    throw new RunInputError(`cannot read '${path}': ${readFailure(error)}`);
  }
  let columns: number[] | null = null;
  let fields: string[] = [];
  let lineNo = 0, rows = 0;
  const row: CsvRow = {
    get line() {
      return lineNo;
    },
    text: (i) => fields[i],
    number: (i) => {
      const text = fields[i];
      const n = text === "" || text === undefined ? NaN : +text;
      if (!Number.isFinite(n)) {
        throw new RunInputError(
          `'${path}' line ${lineNo}: column '${
            [...required, ...optional][columns!.indexOf(i)] ?? i
          }' is not a number: ${JSON.stringify(text ?? "")}`,
        );
      }
      return n;
    },
  };
  const handle = (raw: string) => {
    lineNo++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (columns === null) {
      const header = splitCsvLine(line).map((h) => h.trim());
      const missing = required.filter((name) => !header.includes(name));
      if (line.trim() === "" || missing.length > 0) {
        throw new RunInputError(
          `'${path}' has no column ${missing.map((m) => `'${m}'`).join(", ")} in its header ` +
            `(line 1: ${JSON.stringify(line.slice(0, 120))})`,
        );
      }
      columns = [...required, ...optional].map((name) => header.indexOf(name));
      return;
    }
    if (line === "") return;
    fields = splitCsvLine(line);
    rows++;
    onRow(row, columns);
  };
  const decoder = new TextDecoder();
  let rest = "";
  try {
    const buffer = new Uint8Array(1 << 20);
    for (;;) {
      let n: number | null;
      try {
        n = await file.read(buffer);
      } catch (error) {
        throw new RunInputError(`cannot read '${path}': ${readFailure(error)}`);
      }
      if (n === null) break;
      const text = rest + decoder.decode(buffer.subarray(0, n), { stream: true });
      const lines = text.split("\n");
      rest = lines.pop()!;
      for (const line of lines) handle(line);
    }
    rest += decoder.decode();
    if (rest !== "") handle(rest);
  } finally {
    file.close();
  }
  if (columns === null) throw new RunInputError(`'${path}' is empty: expected a CSV header`);
  return rows;
}
