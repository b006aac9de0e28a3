// A local Flink session cluster of separate JVMs, as the image's scripts would start them: one
// JobManager (StandaloneSessionClusterEntrypoint) and N TaskManagers (TaskManagerRunner), each
// with its own log file, stdout file and pid file under the work dir. Memory flags come from
// Flink's own BashJavaUtils, as jobmanager.sh/taskmanager.sh get them; logging uses the given
// log4j-console.properties (by default job/conf's), so stdout holds the same ECS JSON lines a
// pod's log would. Playing Kubernetes, the caller can start replacement TaskManagers and a new
// JobManager, and signal any process by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { packagePath } from '../../../scripts/lib/paths.ts';
import type { FlinkDist } from './dist.ts';
import { overview } from './rest.ts';
import type { FlinkConfig } from './sandbox-config.ts';

/** The JVM flags flink-dist's config.yaml sets (env.java.opts.all) for Flink 1.20 on Java 17. */
const JAVA17_OPTS = [
  ...['java.base/sun.net.util', 'java.rmi/sun.rmi.registry', 'java.security.jgss/sun.security.krb5'].map((p) => `--add-exports=${p}=ALL-UNNAMED`),
  ...['api', 'file', 'parser', 'tree', 'util'].map((p) => `--add-exports=jdk.compiler/com.sun.tools.javac.${p}=ALL-UNNAMED`),
  ...['lang', 'net', 'io', 'nio', 'lang.reflect', 'text', 'time', 'util', 'util.concurrent', 'util.concurrent.atomic', 'util.concurrent.locks'].map(
    (p) => `--add-opens=java.base/java.${p}=ALL-UNNAMED`,
  ),
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
];

const JOBMANAGER_MAIN = 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint';
const TASKMANAGER_MAIN = 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner';
const RESOURCE_PARAMS_MAIN = 'org.apache.flink.runtime.util.bash.BashJavaUtils';

export interface FlinkProcess {
  /** jobmanager-1, taskmanager-1, taskmanager-2, ...: a replacement gets the next number. */
  name: string;
  role: 'jobmanager' | 'taskmanager';
  pid: number;
  /** The plain-text log (log4j's rolling file appender, ${sys:log.file}). */
  logFile: string;
  /** stdout and stderr: the console appender's JSON lines, what a pod's log holds. */
  outFile: string;
  child: ChildProcess;
  /** When it was started (ms since the epoch). */
  startedAt: number;
}

export interface LocalFlink extends AsyncDisposable {
  restUrl: string;
  workDir: string;
  /** The JobManager started last. */
  readonly jobManager: FlinkProcess;
  /** Every process started, in order, including the ones that have exited since. */
  readonly processes: readonly FlinkProcess[];
  /** TaskManagers still running. */
  liveTaskManagers(): FlinkProcess[];
  /** Starts one more TaskManager (a replacement pod); resolves once it is launched. */
  startTaskManager(): Promise<FlinkProcess>;
  /** Starts a new JobManager process with the same configuration (the restarted pod). */
  startJobManager(): Promise<FlinkProcess>;
  /** Sends a signal to one process by its pid; SIGKILL resolves once it has exited. */
  signal(p: FlinkProcess, signal: NodeJS.Signals): Promise<void>;
  /** Resolves once the JobManager answers REST with `count` registered TaskManagers. */
  waitForTaskManagers(count: number, timeoutMs?: number): Promise<void>;
  /** Called with each process as it starts (the first ones included, before the start-up wait). */
  onStart(listener: (p: FlinkProcess) => void): void;
  /** Stops every process still running (TaskManagers first), by pid: SIGCONT, SIGTERM, then SIGKILL. */
  stop(): Promise<void>;
}

export interface LocalFlinkOptions {
  workDir: string;
  /** The whole config.yaml; rest.port must be set (the REST URL is built from it). */
  config: FlinkConfig;
  taskManagers?: number;
  /** File name -> text for the config dir; log4j-console.properties configures the processes' logging. */
  logConfiguration?: Record<string, string>;
  /** Extra environment of every Flink process (e.g. S3 credentials). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  onStart?: (p: FlinkProcess) => void;
}

/** The JVM flags and the -D dynamic properties Flink derives from the memory configuration. */
async function resourceParams(dist: FlinkDist, confDir: string, command: 'GET_JM_RESOURCE_PARAMS' | 'GET_TM_RESOURCE_PARAMS'): Promise<{ jvm: string[]; dynamic: string[] }> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('java', ['-cp', `${dist.lib}/*`, RESOURCE_PARAMS_MAIN, command, '--configDir', confDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`BashJavaUtils ${command} failed (exit ${code}):\n${text}`))));
  });
  const results = output.split('\n').flatMap((line) => (line.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:') ? [line.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim()] : []));
  if (results.length < 2) throw new Error(`BashJavaUtils ${command} printed no JVM and dynamic parameters:\n${output}`);
  const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
  return { jvm: words(results[0]!), dynamic: words(results[1]!) };
}

function exited(p: FlinkProcess): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

async function stopProcess(p: FlinkProcess): Promise<void> {
  if (exited(p)) return;
  const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  // A frozen process cannot act on SIGTERM.
  process.kill(p.pid, 'SIGCONT');
  process.kill(p.pid, 'SIGTERM');
  const graceful = await Promise.race([gone.then(() => true), sleep(15_000).then(() => false)]);
  if (!graceful) {
    process.kill(p.pid, 'SIGKILL');
    await gone;
  }
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Starts the cluster and returns once every TaskManager has registered with the JobManager. */
export async function startLocalFlink(dist: FlinkDist, options: LocalFlinkOptions): Promise<LocalFlink> {
  const { workDir, config, taskManagers = 1, readyTimeoutMs = 120_000 } = options;
  const restPort = config['rest.port'];
  if (!restPort) throw new Error('the Flink configuration sets no rest.port');
  const dirs = { conf: join(workDir, 'conf'), log: join(workDir, 'log'), pid: join(workDir, 'pid') };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  await writeFile(join(dirs.conf, 'config.yaml'), stringify(config));
  for (const [file, text] of Object.entries(options.logConfiguration ?? {})) await writeFile(join(dirs.conf, file), text);
  const log4j = options.logConfiguration?.['log4j-console.properties'] !== undefined ? join(dirs.conf, 'log4j-console.properties') : packagePath('job', 'conf', 'log4j-console.properties');
  const env = { ...process.env, ...options.env, FLINK_CONF_DIR: dirs.conf, FLINK_PLUGINS_DIR: dist.plugins };

  const [jmParams, tmParams] = await Promise.all([resourceParams(dist, dirs.conf, 'GET_JM_RESOURCE_PARAMS'), resourceParams(dist, dirs.conf, 'GET_TM_RESOURCE_PARAMS')]);
  const processes: FlinkProcess[] = [];
  const listeners = options.onStart ? [options.onStart] : [];
  const counts = { jobmanager: 0, taskmanager: 0 };

  const launch = async (role: FlinkProcess['role']): Promise<FlinkProcess> => {
    const name = `${role}-${++counts[role]}`;
    const [main, params] = role === 'jobmanager' ? [JOBMANAGER_MAIN, jmParams] : [TASKMANAGER_MAIN, tmParams];
    // A readable resource id: the JobManager's log and the REST API name the TaskManager by it.
    const dynamic = role === 'taskmanager' ? [...params.dynamic, '-D', `taskmanager.resource-id=${name}`] : params.dynamic;
    const logFile = join(dirs.log, `${name}.log`);
    const outFile = join(dirs.log, `${name}.out`);
    const out = openSync(outFile, 'a');
    const args = [...JAVA17_OPTS, ...params.jvm, `-Dlog.file=${logFile}`, `-Dlog4j.configurationFile=${pathToFileURL(log4j).href}`, '-cp', `${dist.lib}/*`, main, '--configDir', dirs.conf, ...dynamic];
    const child = spawn('java', args, { stdio: ['ignore', out, out], env });
    closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${name}: java did not start`);
    const p: FlinkProcess = { name, role, pid: child.pid, logFile, outFile, child, startedAt: Date.now() };
    processes.push(p);
    await writeFile(join(dirs.pid, `${name}.pid`), `${p.pid}\n`);
    for (const l of listeners) l(p);
    return p;
  };

  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await stopProcess(p);
  };
  const restUrl = `http://127.0.0.1:${restPort}`;
  const waitForTaskManagers = async (count: number, timeoutMs = readyTimeoutMs): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const jm = processes.filter((p) => p.role === 'jobmanager').at(-1)!;
      if (exited(jm)) throw new Error(`${jm.name} (pid ${jm.pid}) exited; the end of ${jm.outFile}:\n${await tail(jm.outFile)}`);
      const o = await overview(restUrl).catch((err: Error) => err);
      if (!(o instanceof Error) && o.taskmanagers === count) return;
      last = o instanceof Error ? o.message : `${o.taskmanagers} of ${count} TaskManagers registered`;
      if (Date.now() > deadline) throw new Error(`the local Flink cluster did not have ${count} TaskManagers within ${timeoutMs / 1000}s; last seen: ${last}`);
      await sleep(500);
    }
  };
  try {
    await launch('jobmanager');
    for (let i = 0; i < taskManagers; i++) await launch('taskmanager');
    await waitForTaskManagers(taskManagers).catch(async (err: Error) => {
      const dead = processes.find(exited);
      throw dead ? new Error(`${dead.name} (pid ${dead.pid}) exited during start-up; the end of ${dead.outFile}:\n${await tail(dead.outFile)}`) : err;
    });
    return {
      restUrl,
      workDir,
      get jobManager() {
        return processes.filter((p) => p.role === 'jobmanager').at(-1)!;
      },
      processes,
      liveTaskManagers: () => processes.filter((p) => p.role === 'taskmanager' && !exited(p)),
      startTaskManager: () => launch('taskmanager'),
      startJobManager: () => launch('jobmanager'),
      async signal(p, signal) {
        if (exited(p)) throw new Error(`${p.name} (pid ${p.pid}) has already exited`);
        const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
        process.kill(p.pid, signal);
        if (signal === 'SIGKILL') await gone;
      },
      waitForTaskManagers,
      onStart: (listener) => {
        listeners.push(listener);
        for (const p of processes) listener(p);
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
