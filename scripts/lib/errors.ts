// User errors (bad input, missing prerequisites, timeouts) are SandboxErrors: printed with their
// causes and a one-line hint, without a stack trace. Anything else is a bug, and cli.ts prints it
// with its stack and asks for a report. Which exit code an error ends with follows from its class
// (a usage error, an interrupt, ...); cli.ts is the one place that turns classes into numbers.

export interface SandboxErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Where evidence was written (diagnostics bundle), printed after the message. */
  artifacts?: string;
  /** Extra fields for the `--json` error document (e.g. the step records of a failed run). */
  data?: Record<string, unknown>;
}

/** Something the user can act on (the hint says how); the command fails with exit 1. */
export class SandboxError extends Error {
  readonly hint?: string;
  artifacts?: string;
  data?: Record<string, unknown>;

  constructor(message: string, options: SandboxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SandboxError';
    this.hint = options.hint;
    this.artifacts = options.artifacts;
    this.data = options.data;
  }
}

/** The command line or the config asked for something that does not exist or is out of range. */
export class UsageError extends SandboxError {
  constructor(message: string, options: SandboxErrorOptions = {}) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Ctrl-C (or SIGTERM) stopped the command cleanly; a re-run continues. */
export class InterruptedError extends SandboxError {
  constructor(message: string, options: SandboxErrorOptions = {}) {
    super(message, options);
    this.name = 'InterruptedError';
  }
}

/** Input that cannot be judged at all (unreadable, empty, no record lines): no verdict. */
export class UnusableInputError extends SandboxError {
  constructor(message: string, options: SandboxErrorOptions = {}) {
    super(message, options);
    this.name = 'UnusableInputError';
  }
}

/** A wait that ran out of time; the message names what was awaited and the last value seen. */
export class TimeoutError extends SandboxError {
  readonly lastSeen?: string;
  constructor(message: string, options: SandboxErrorOptions & { lastSeen?: string } = {}) {
    super(message, options);
    this.name = 'TimeoutError';
    this.lastSeen = options.lastSeen;
  }
}

export function isSandboxError(err: unknown): err is SandboxError {
  return err instanceof SandboxError;
}

/** "a: b: c" from an error and its chain of causes, without repeating identical messages. */
export function causeChain(err: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 10; depth++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (msg && !out.includes(msg)) out.push(msg);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}

/** How a user error reads on a terminal: the message, each cause, the hint, where evidence went. */
export function describeError(err: SandboxError): string {
  const [first, ...rest] = causeChain(err);
  const lines = [`✖ ${first}`, ...rest.map((r) => `  caused by: ${r}`)];
  if (err.hint) lines.push(`  hint: ${err.hint}`);
  if (err.artifacts) lines.push(`  diagnostics: ${err.artifacts}`);
  return lines.join('\n');
}
