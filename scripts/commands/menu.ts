// `sandbox` with no command in a terminal: an interactive menu over the commands.
// Never shown without a TTY (cli.ts prints the help instead), so CI never hangs on it.
import { isSandboxError } from '../lib/errors.ts';
import { resetInterrupt } from '../lib/services.ts';
import type { GlobalOptions } from './options.ts';

type Action = 'up' | 'status' | 'open' | 'doctor' | 'down' | 'scenario' | 'quit';

export async function menu(opts: GlobalOptions): Promise<void> {
  const { select, confirm } = await import('@inquirer/prompts');
  for (;;) {
    let action: Action;
    try {
      action = await select<Action>({
        message: 'flink-sandbox: what next?',
        choices: [
          { name: 'Stand up the sandbox (up)', value: 'up' },
          { name: 'Show status', value: 'status' },
          { name: 'Open a UI (Kibana, MinIO, Flink, Heimdall)', value: 'open' },
          { name: 'Check this machine (doctor)', value: 'doctor' },
          { name: 'Run a scenario', value: 'scenario', disabled: '(arrives with the scenarios)' },
          { name: 'Tear down (down)', value: 'down' },
          { name: 'Quit', value: 'quit' },
        ],
      });
    } catch {
      return; // Ctrl-C or Ctrl-D at the prompt
    }
    if (action === 'quit') return;
    resetInterrupt();
    process.exitCode = undefined;
    try {
      if (action === 'up') await (await import('./up.ts')).up(opts);
      if (action === 'status') await (await import('./status.ts')).status(opts);
      if (action === 'doctor') await (await import('./doctor.ts')).doctor(opts);
      if (action === 'open') {
        const ui = await select({
          message: 'Which UI?',
          choices: ['kibana', 'minio', 'flink', 'heimdall'].map((v) => ({ name: v, value: v })),
        });
        await (await import('./open.ts')).open(ui, opts);
      }
      const what = opts.context ? `everything the sandbox installed into ${opts.context}` : 'the sandbox cluster';
      if (action === 'down' && (await confirm({ message: `Delete ${what}?`, default: false }))) {
        await (await import('./down.ts')).down(opts);
      }
    } catch (err) {
      if (!isSandboxError(err)) throw err;
      process.stderr.write(`✖ ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}\n`);
    }
  }
}
