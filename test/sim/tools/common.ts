// What every fake tool does around its own work: find the simulation (SIM_URL), record the
// call at /_sim/calls, honour the `tools` fault knob (and the docker daemon being down),
// print like the real tool and exit with a real-looking code.
import { SimClient } from '../api-client.ts';
import { readFaults, patchFaults, matchesAny, type SimFaults } from '../faults.ts';

export type ToolName = 'kind' | 'helm' | 'docker';

/** A failure the tool reports on stderr with an exit code, like the real CLI. */
export class ToolExit extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.code = code;
  }
}

export interface ToolContext {
  readonly tool: ToolName;
  readonly argv: string[];
  readonly url: string;
  readonly api: SimClient;
  faults(): Promise<SimFaults>;
  out(text: string): void;
  err(text: string): void;
}

export const DOCKER_DOWN = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

function withNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** Applies the first matching `tools` fault, consuming one of its `times`. */
async function toolFault(ctx: ToolContext): Promise<ToolExit | undefined> {
  const faults = await ctx.faults();
  const list = faults.tools ?? [];
  const joined = ctx.argv.join(' ');
  const index = list.findIndex((f) => f.tool === ctx.tool && (f.match === undefined || matchesAny(joined, [f.match])));
  if (index < 0) return undefined;
  const fault = list[index]!;
  if (fault.times !== undefined) {
    const rest = [...list];
    if (fault.times <= 1) rest.splice(index, 1);
    else rest[index] = { ...fault, times: fault.times - 1 };
    await patchFaults(ctx.url, ctx.tool, { tools: rest });
  }
  return new ToolExit(fault.message, fault.exitCode ?? 1);
}

/** Runs a fake tool's main function and sets the process exit code. */
export async function runTool(tool: ToolName, main: (ctx: ToolContext) => Promise<number | void>): Promise<void> {
  const argv = process.argv.slice(2);
  const url = process.env.SIM_URL;
  if (!url) {
    process.stderr.write(`${tool} (simulated): SIM_URL is not set; run it through the test harness\n`);
    process.exitCode = 127;
    return;
  }
  let faultsCache: SimFaults | undefined;
  const ctx: ToolContext = {
    tool,
    argv,
    url,
    api: new SimClient(url, tool),
    async faults() {
      faultsCache ??= await readFaults(url, tool);
      return faultsCache;
    },
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
  };
  try {
    await ctx.api.request('POST', '/_sim/calls', { tool, argv, cwd: process.cwd() });
    const fault = await toolFault(ctx);
    if (fault) throw fault;
    const code = await main(ctx);
    process.exitCode = code ?? 0;
  } catch (err) {
    if (err instanceof ToolExit) {
      if (err.message) process.stderr.write(withNewline(err.message));
      process.exitCode = err.code;
      return;
    }
    process.stderr.write(`${tool} (simulated) crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  }
}

/** Minimal flag parser for the fake tools: --flag value, --flag=value, -f value, repeatable. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(argv: string[], spec: { boolean?: string[]; aliases?: Record<string, string> }): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const booleans = new Set(spec.boolean ?? []);
  const add = (k: string, v: string): void => void flags.set(k, [...(flags.get(k) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let name = a.replace(/^--?/, '');
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    name = spec.aliases?.[name] ?? name;
    if (booleans.has(name)) {
      add(name, value ?? 'true');
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new ToolExit(`Error: flag needs an argument: --${name}`, 1);
      value = argv[++i]!;
    }
    add(name, value);
  }
  return { positional, flags };
}

export function flag(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}

export function flags(p: ParsedArgs, name: string): string[] {
  return p.flags.get(name) ?? [];
}

export function bool(p: ParsedArgs, name: string): boolean {
  const v = flag(p, name);
  return v !== undefined && v !== 'false';
}
