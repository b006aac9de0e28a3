// With --json, stdout carries exactly one JSON document, whatever happens: a command hands
// its result here instead of writing it, and cli.ts writes the one document when the command
// ends, merging the error in when it failed. Kept free of imports so that cli.ts stays fast.

let result: Record<string, unknown> | undefined;
let written = false;

function asRecord(data: unknown): Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : { result: data };
}

/**
 * Keeps a command's JSON result for the document cli.ts writes. `now` writes it at once, for a
 * command that keeps running after it has answered (`open` holds its port-forward): a later
 * error then goes to stderr only.
 */
export function setJsonResult(data: unknown, now = false): void {
  result = asRecord(data);
  if (now) writeJsonDocument();
}

/** The error part of the document: the same fields in every command. */
export interface JsonError {
  message: string;
  /** The message and every cause below it, outermost first. */
  causes: string[];
  hint?: string;
  /** Where a diagnostics bundle was written. */
  artifacts?: string;
  exitCode: number;
}

/**
 * Writes the one document, unless it was written already: `{ok: true, ...result}`, and on
 * failure `{ok: false, ...result, ...data, error}`.
 */
export function writeJsonDocument(failure?: { error: JsonError; data?: Record<string, unknown> }): void {
  if (written) return;
  written = true;
  // `ok` first, so that a reader sees the verdict at the top; a result may say false itself (status).
  const doc: Record<string, unknown> = { ok: !failure, ...result, ...failure?.data };
  if (failure) Object.assign(doc, { ok: false, error: failure.error });
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}
