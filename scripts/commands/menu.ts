// `sandbox` with no command in a terminal: an interactive menu over the commands.
// Never shown without a TTY (cli.ts prints the help instead), so CI never hangs on it.
import { EXTRAS, type Profile } from '../lib/config.ts';
import { describeError, InterruptedError, isSandboxError } from '../lib/errors.ts';
import { createServices, resetInterrupt } from '../lib/services.ts';
import { INSTALL_CONFIGMAP } from '../steps/kit.ts';
import { configFrom, type GlobalOptions } from './options.ts';

type Action = 'up' | 'status' | 'scenario' | 'suspend-resume' | 'savepoint' | 'savepoints' | 'redeploy' | 'follow' | 'open' | 'doctor' | 'down' | 'quit';

/** How long the menu waits for the cluster to say what was installed last before it offers the defaults. */
const LAST_INSTALL_TIMEOUT_MS = 5_000;

/** inquirer ends a prompt with ExitPromptError on Ctrl-C (SIGINT) and when its input closes (Ctrl-D). */
function promptClosed(err: unknown): 'interrupt' | 'closed' | undefined {
  if (!(err instanceof Error) || err.name !== 'ExitPromptError') return undefined;
  return /SIGINT/.test(err.message) ? 'interrupt' : 'closed';
}

/** The profile and extras `up` recorded in the cluster last time, or the configured ones. */
async function lastInstall(opts: GlobalOptions): Promise<{ profile: Profile; with: string[] }> {
  const cfg = await configFrom(opts);
  const fallback = { profile: cfg.profile, with: cfg.with };
  const recorded = (async (): Promise<{ profile: Profile; with: string[] }> => {
    const kube = await createServices(cfg).kube();
    const cm = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: INSTALL_CONFIGMAP, namespace: cfg.namespaces.job });
    const data = cm?.data as Record<string, string> | undefined;
    if (!data?.profile) return fallback;
    return { profile: data.profile === 'minimal' ? 'minimal' : 'full', with: String(data.with ?? '').split(',').filter(Boolean) };
  })();
  const timeout = new Promise<typeof fallback>((resolve) => setTimeout(() => resolve(fallback), LAST_INSTALL_TIMEOUT_MS).unref());
  return Promise.race([recorded.catch(() => fallback), timeout]);
}

const CHOICES: Array<{ name: string; value: Action }> = [
  { name: 'Stand up the sandbox (up)', value: 'up' },
  { name: 'Show status', value: 'status' },
  { name: 'Run scenarios', value: 'scenario' },
  { name: 'Suspend or resume the job', value: 'suspend-resume' },
  { name: 'Take a savepoint', value: 'savepoint' },
  { name: 'List savepoints', value: 'savepoints' },
  { name: 'Redeploy the job from a savepoint', value: 'redeploy' },
  { name: 'Follow the sequence live', value: 'follow' },
  { name: 'Open a UI (Kibana, MinIO, Flink, Heimdall)', value: 'open' },
  { name: 'Check this machine (doctor)', value: 'doctor' },
  { name: 'Tear down (down)', value: 'down' },
  { name: 'Quit', value: 'quit' },
];

/** The scenarios to run, ticked in a list of all of them; the scenario command runs them. */
async function runScenarios(opts: GlobalOptions): Promise<void> {
  const { checkbox } = await import('@inquirer/prompts');
  const { SCENARIOS } = await import('../../scenarios/index.ts');
  const names = await checkbox<string>({
    message: 'Which scenarios? (space ticks, enter runs them in this order)',
    pageSize: SCENARIOS.length,
    required: true,
    choices: SCENARIOS.map((s) => ({ name: s.name, value: s.name, description: `${s.summary}${s.needsProfile ? ` (needs the ${s.needsProfile} profile)` : ''}` })),
  });
  await (await import('./scenario.ts')).scenario(names, opts);
}

// Long on purpose: the menu's loop, one branch per action, read as the list the user sees.
export async function menu(opts: GlobalOptions): Promise<void> {
  const { select, confirm, checkbox } = await import('@inquirer/prompts');
  let last: Action = 'up';
  for (;;) {
    let action: Action;
    try {
      action = await select<Action>({
        message: 'flink-sandbox: what next?',
        // The cursor stays on what was done last, so repeating it is one key.
        default: last,
        // All at once: a scrolling list hides what the menu can do.
        pageSize: CHOICES.length,
        choices: CHOICES,
      });
    } catch (err) {
      const closed = promptClosed(err);
      if (closed === 'interrupt') throw new InterruptedError('interrupted');
      if (closed === 'closed') return;
      throw err;
    }
    if (action === 'quit') return;
    last = action;
    resetInterrupt();
    try {
      if (action === 'up') {
        const before = await lastInstall(opts);
        const profile = await select<Profile>({
          message: 'Which profile?',
          default: before.profile,
          choices: [
            { name: 'full: everything of the blog (about 8 GiB of Docker memory)', value: 'full' },
            { name: 'minimal: cluster, MinIO, cert-manager, operator, job image (about 5 GiB)', value: 'minimal' },
          ],
        });
        const extras = await checkbox<string>({
          message: 'Extras?',
          choices: EXTRAS.map((e) => ({ name: e === 'ui' ? 'ui: ingress-nginx and Heimdall' : e, value: e, checked: before.with.includes(e) })),
        });
        await (await import('./up.ts')).up({ ...opts, profile, with: extras });
      }
      if (action === 'status') await (await import('./status.ts')).status(opts);
      if (action === 'scenario') await runScenarios(opts);
      if (action === 'suspend-resume') await (await import('./menu-job.ts')).suspendOrResume(opts);
      if (action === 'savepoint') await (await import('./menu-savepoints.ts')).takeManualSavepoint(opts);
      if (action === 'savepoints') await (await import('./menu-savepoints.ts')).listSavepoints(opts);
      if (action === 'redeploy') await (await import('./menu-savepoints.ts')).redeployFromSavepoint(opts);
      if (action === 'follow') await (await import('./menu-follow.ts')).followSequence(opts);
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
      // Ctrl-C in a sub-prompt only leaves that action.
      if (promptClosed(err)) continue;
      if (!isSandboxError(err)) throw err;
      // Ctrl-C during an action's wait ends that action only; its "re-run" hint fits commands, not the menu.
      if (err instanceof InterruptedError) process.stderr.write('stopped: back to the menu\n');
      else process.stderr.write(`${describeError(err)}\n`);
    }
  }
}
