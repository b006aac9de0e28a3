// Options every command receives (global flags merged with the command's own).
import { loadConfig, type SandboxConfig } from '../lib/config.ts';

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

/** Prints data as JSON (with --json) or as text. */
export function emit(opts: GlobalOptions, data: unknown, text: () => string): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${text()}\n`);
}
