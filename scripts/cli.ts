// The command registry, and the ONE place that maps errors (by class) and outcomes to exit codes.
// Commands are loaded lazily so that `sandbox --help` starts fast.
import { Command, CommanderError, Option } from 'commander';
import { causeChain, describeError, InterruptedError, isSandboxError, UnusableInputError, UsageError, type SandboxError } from './lib/errors.ts';
import type { CommandOutcome, GlobalOptions } from './commands/options.ts';
import pkg from '../package.json' with { type: 'json' };
import { writeJsonDocument } from './commands/json-output.ts';

const list = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** The exit codes of the README's "Exit codes"; no other file holds these numbers. */
const EXIT = { ok: 0, failed: 1, noVerdict: 2, usage: 64, interrupted: 130 } as const;

/** What the command that ran returned: a verdict it printed itself rather than an error. */
let outcome: CommandOutcome | void;

function exitCodeOf(err: SandboxError): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof InterruptedError) return EXIT.interrupted;
  if (err instanceof UnusableInputError) return EXIT.noVerdict;
  return EXIT.failed;
}

/** Every error of a chain with its stack (a bug's stack is what its report needs). */
function stacks(err: unknown): string {
  const out: string[] = [];
  for (let cur = err, depth = 0; cur !== undefined && cur !== null && depth < 10; depth++) {
    const text = cur instanceof Error ? (cur.stack ?? `${cur.name}: ${cur.message}`) : String(cur);
    out.push(depth === 0 ? text : `caused by: ${text}`);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out.join('\n');
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

// Long on purpose: the command registry, read top to bottom as the CLI's table of contents.
function buildProgram(): Command {
  outcome = undefined;
  const program = new Command('sandbox')
    .description('A local sandbox for Apache Flink on Kubernetes: the platform of "Get Running with Apache Flink on Kubernetes" in one command, and scenarios that prove the job survives faults.')
    .option('--verbose', 'show every command and output line of each step')
    .option('--json', 'print machine-readable JSON on stdout (where output is data)')
    .option('--context <kube-context>', 'use this existing cluster instead of creating a kind cluster')
    .option('--config <file>', 'YAML/JSON overrides of the typed defaults (versions, ports, names, profile)')
    .version(pkg.version, '-V, --version', 'print the version of flink-sandbox')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('up')
    .description('stand up the platform (idempotent: a re-run converges and changes nothing)')
    .option('--dry-run', 'print the plan (steps, order, parallelism, commands, manifests) and touch nothing')
    .option('--only <steps>', 'run only these steps (comma-separated ids)', list)
    .option('--skip <steps>', 'skip these steps (comma-separated ids)', list)
    .addOption(new Option('--profile <profile>', 'what to install').choices(['full', 'minimal']))
    .option('--with <extras>', 'optional extras, e.g. ui (ingress-nginx + Heimdall)', list)
    .addOption(new Option('--cluster <provider>', 'cluster provider').choices(['kind', 'k3s']))
    .option('--job-image <ref>', 'use this prebuilt job image instead of building job/')
    .option('--force', 'apply every step even when it looks done, taking over fields another manager changed')
    .action(async (_opts, cmd: Command) => (await import('./commands/up.ts')).up(globals(cmd)));

  program
    .command('down')
    .description("delete the sandbox's cluster (with --context: only what the sandbox installed)")
    .action(async (_opts, cmd: Command) => (await import('./commands/down.ts')).down(globals(cmd)));

  program
    .command('status')
    .description('every component, its health, version and endpoint; the job state')
    .addOption(new Option('--profile <profile>', 'expect the components of this profile (default: what up installed)').choices(['full', 'minimal']))
    .action(async (_opts, cmd: Command) => {
      outcome = await (await import('./commands/status.ts')).status(globals(cmd));
    });

  program
    .command('doctor')
    .description('check Docker, tools, resources, disk, ports and limits; one fix per problem')
    .addOption(new Option('--profile <profile>', 'profile to check resources for').choices(['full', 'minimal']))
    .action(async (_opts, cmd: Command) => (await import('./commands/doctor.ts')).doctor(globals(cmd)));

  program
    .command('open')
    .description('port-forward a UI on 127.0.0.1 and print its URL and how to log in')
    .argument('<ui>', 'kibana | minio | flink | heimdall')
    .action(async (ui: string, _opts, cmd: Command) => (await import('./commands/open.ts')).open(ui, globals(cmd)));

  program
    .command('scenario')
    .description('list the scenarios, or run the named ones and check that the job\'s sequence continues')
    .argument('[names...]', 'scenarios to run, in order; omit to list them')
    .action(async (names: string[], _opts, cmd: Command) => (await import('./commands/scenario.ts')).scenario(names, globals(cmd)));

  program
    .command('test')
    .description('the end-to-end harness for CI: runs scenarios, writes JUnit/JSON/HTML reports')
    .argument('[names...]', 'scenarios to run, in order; omit to run them all')
    .addOption(new Option('--profile <profile>', 'profile for `up` when the sandbox is not there yet').choices(['full', 'minimal']))
    .option('--with <extras>', 'extras for `up` when the sandbox is not there yet', list)
    .option('--job-image <ref>', 'use this prebuilt job image (needed with --context)')
    .addHelpText(
      'after',
      [
        '',
        'Stands the sandbox up first when it is not installed (as `sandbox up` would; --context uses an existing cluster),',
        'then runs the scenarios one after another and writes .sandbox/reports/<run-id>/:',
        '  junit.xml    JUnit XML for CI: one testcase per claim, the scenario as its class',
        '  report.json  the outcomes, verdicts and versions',
        '  report.html  a self-contained page plotting each sequence against time, with a marker per fault',
        'On a failure the diagnostics bundle goes to .sandbox/artifacts/<run-id>/.',
        'Exit codes: 0 every scenario passed, 1 one failed, 130 interrupted (the reports cover what ran).',
      ].join('\n'),
    )
    .action(async (names: string[], _opts, cmd: Command) => (await import('./commands/test.ts')).test(names, globals(cmd)));

  program
    .command('verify')
    .description('check captured TaskManager logs (or a run history) for continuity: nothing lost, no reset, replays bounded')
    .argument('[logs...]', 'captured TaskManager logs (`kubectl logs` output: plain, ECS JSON, with --timestamps or --prefix)')
    .option('--history <file>', 'a run history (.sandbox/runs/<run-id>/<scenario>/history.jsonl): its faults and checkpoints bound the replays')
    .action(async (logs: string[], opts: { history?: string }, cmd: Command) => {
      outcome = await (await import('./commands/verify.ts')).verify(logs, opts.history, globals(cmd));
    });

  program
    .command('menu', { hidden: true })
    .description('the interactive menu (also: `sandbox` with no command in a terminal)')
    .action(async (_opts, cmd: Command) => (await import('./commands/menu.ts')).menu(globals(cmd)));

  return program;
}

/** Maps an error to its exit code; prints it on stderr, and with --json as the one document on stdout. */
function printError(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed its message on stderr
    const code = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (json && code !== EXIT.ok) {
      const message = err.message.replace(/^error: /, '');
      writeJsonDocument({ error: { message, causes: [message], hint: 'run with --help for usage', exitCode: code } });
    }
    return code;
  }
  if (isSandboxError(err)) {
    const causes = causeChain(err);
    const exitCode = exitCodeOf(err);
    if (json) {
      const error = { message: err.message, causes, hint: err.hint, artifacts: err.artifacts, exitCode };
      writeJsonDocument({ error, data: err.data });
    }
    process.stderr.write(`${describeError(err)}\n`);
    return exitCode;
  }
  // A bug: show everything, the stack of every cause included.
  const causes = causeChain(err);
  if (json) writeJsonDocument({ error: { message: causes[0] ?? 'unexpected error', causes, hint: 'this is a bug: please report it with the output on stderr', exitCode: EXIT.failed } });
  process.stderr.write(`✖ unexpected error (please report it):\n${stacks(err)}\n`);
  return EXIT.failed;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const args = argv.slice(2);
  const json = args.includes('--json');
  if (args.filter((a) => !a.startsWith('-')).length === 0 && !args.some((a) => ['-h', '--help', '-V', '--version'].includes(a))) {
    if (process.stdin.isTTY && process.stdout.isTTY && !process.env.CI) {
      args.unshift('menu');
    } else {
      program.outputHelp({ error: true });
      process.stderr.write('\nno command given (the interactive menu needs a terminal)\n');
      return EXIT.usage;
    }
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    if (json) writeJsonDocument();
    if (outcome === 'failed') return EXIT.failed;
    if (outcome === 'unknown') return EXIT.noVerdict;
    return EXIT.ok;
  } catch (err) {
    return printError(err, json);
  }
}

/** What the executable (scripts/main.ts) runs; tests call main() in-process instead. */
export async function runCli(): Promise<void> {
  process.on('unhandledRejection', (reason) => {
    process.exitCode = printError(reason, false);
  });
  const code = await main(process.argv);
  process.exitCode = code;
  // Let pending I/O flush, but do not hang on sockets left open by libraries.
  setTimeout(() => process.exit(code), 200).unref();
}

