// Options every command receives (global flags merged with the command's own).
import { loadConfig, type SandboxConfig } from '../lib/config.ts';
import { setJsonResult } from './json-output.ts';

export interface GlobalOptions {
  verbose?: boolean;
  json?: boolean;
  context?: string;
  config?: string;
  // up
  dryRun?: boolean;
  only?: string[];
  skip?: string[];
  profile?: string;
  with?: string[];
  cluster?: string;
  jobImage?: string;
  force?: boolean;
}

/**
 * How a command that prints its own verdict ended, when that is not success (status with an
 * unhealthy component). cli.ts maps it to the exit code; failures the user must act on are
 * thrown as errors instead.
 */
export type CommandOutcome = 'ok' | 'failed' | 'unknown';

export function configFrom(opts: GlobalOptions): Promise<SandboxConfig> {
  return loadConfig({
    config: opts.config,
    context: opts.context,
    profile: opts.profile,
    with: opts.with,
    cluster: opts.cluster,
    jobImage: opts.jobImage,
  });
}

/**
 * A command's result: text on stdout, or with --json the command's part of the one JSON
 * document cli.ts writes when the command ends (`now`: at once, for a command that keeps running).
 */
export function emit(opts: GlobalOptions, data: unknown, text: () => string, { now = false }: { now?: boolean } = {}): void {
  if (opts.json) setJsonResult(data, now);
  else process.stdout.write(`${text()}\n`);
}
