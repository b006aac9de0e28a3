// A local Flink session cluster of separate JVMs, as the image's scripts would start them: one
// JobManager (StandaloneSessionClusterEntrypoint) and N TaskManagers (TaskManagerRunner), each
// with its own log file, stdout file and pid file under the work dir. Memory flags come from
// Flink's own BashJavaUtils, as jobmanager.sh/taskmanager.sh get them; logging uses
// job/conf/log4j-console.properties, so stdout holds the same ECS JSON lines a pod's log would.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { packagePath } from '../../../scripts/lib/paths.ts';
import type { FlinkDist } from './dist.ts';
import { overview } from './rest.ts';

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
  /** jobmanager, taskmanager-1, taskmanager-2, ... */
  name: string;
  pid: number;
  /** The plain-text log (log4j's rolling file appender, ${sys:log.file}). */
  logFile: string;
  /** stdout and stderr: the console appender's JSON lines. */
  outFile: string;
  child: ChildProcess;
}

export interface LocalFlink extends AsyncDisposable {
  restUrl: string;
  workDir: string;
  jobManager: FlinkProcess;
  taskManagers: FlinkProcess[];
  /** Stops every process still running (TaskManagers first), by pid: SIGTERM, then SIGKILL. */
  stop(): Promise<void>;
}

export interface LocalFlinkOptions {
  workDir: string;
  taskManagers?: number;
  slotsPerTaskManager?: number;
  /** Extra Flink configuration (config.yaml keys), e.g. checkpoint directories on S3. */
  config?: Record<string, string | number | boolean>;
  readyTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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

function launch(dist: FlinkDist, dirs: { conf: string; log: string; pid: string }, name: string, main: string, params: { jvm: string[]; dynamic: string[] }): FlinkProcess {
  const logFile = join(dirs.log, `${name}.log`);
  const outFile = join(dirs.log, `${name}.out`);
  const out = openSync(outFile, 'a');
  const log4j = pathToFileURL(packagePath('job', 'conf', 'log4j-console.properties')).href;
  const args = [...JAVA17_OPTS, ...params.jvm, `-Dlog.file=${logFile}`, `-Dlog4j.configurationFile=${log4j}`, '-cp', `${dist.lib}/*`, main, '--configDir', dirs.conf, ...params.dynamic];
  const child = spawn('java', args, { stdio: ['ignore', out, out], env: { ...process.env, FLINK_CONF_DIR: dirs.conf, FLINK_PLUGINS_DIR: dist.plugins } });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name}: java did not start`);
  return { name, pid: child.pid, logFile, outFile, child };
}

async function stopProcess(p: FlinkProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  process.kill(p.pid, 'SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!graceful) {
    process.kill(p.pid, 'SIGKILL');
    await exited;
  }
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Starts the cluster and returns once every TaskManager has registered with the JobManager. */
export async function startLocalFlink(dist: FlinkDist, options: LocalFlinkOptions): Promise<LocalFlink> {
  const { workDir, taskManagers = 2, slotsPerTaskManager = 1, readyTimeoutMs = 120_000 } = options;
  const dirs = { conf: join(workDir, 'conf'), log: join(workDir, 'log'), pid: join(workDir, 'pid') };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  const [rpcPort, restPort] = [await freePort(), await freePort()];
  const config = {
    'jobmanager.rpc.address': 'localhost',
    'jobmanager.rpc.port': rpcPort,
    'jobmanager.bind-host': 'localhost',
    'jobmanager.memory.process.size': '1024m',
    'taskmanager.bind-host': 'localhost',
    'taskmanager.host': 'localhost',
    'taskmanager.numberOfTaskSlots': slotsPerTaskManager,
    'taskmanager.memory.process.size': '1536m',
    'rest.address': '127.0.0.1',
    'rest.bind-address': '127.0.0.1',
    'rest.port': restPort,
    'parallelism.default': taskManagers * slotsPerTaskManager,
    // As manifests/flink/hello-ha.yaml, with local directories instead of S3 and no HA.
    'execution.checkpointing.interval': '5s',
    'state.backend.type': 'rocksdb',
    'execution.checkpointing.incremental': true,
    'execution.checkpointing.dir': pathToFileURL(join(workDir, 'checkpoints')).href,
    'execution.checkpointing.savepoint-dir': pathToFileURL(join(workDir, 'savepoints')).href,
    'io.tmp.dirs': join(workDir, 'tmp'),
    'web.upload.dir': join(workDir, 'upload'),
    ...options.config,
  };
  await writeFile(join(dirs.conf, 'config.yaml'), stringify(config));

  const [jmParams, tmParams] = await Promise.all([resourceParams(dist, dirs.conf, 'GET_JM_RESOURCE_PARAMS'), resourceParams(dist, dirs.conf, 'GET_TM_RESOURCE_PARAMS')]);
  const started: FlinkProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of [...started].reverse()) await stopProcess(p);
  };
  try {
    const jobManager = launch(dist, dirs, 'jobmanager', JOBMANAGER_MAIN, jmParams);
    started.push(jobManager);
    const tms = Array.from({ length: taskManagers }, (_, i) => {
      const name = `taskmanager-${i + 1}`;
      // A readable resource id: the JobManager's log and the REST API name the TaskManager by it.
      const tm = launch(dist, dirs, name, TASKMANAGER_MAIN, { ...tmParams, dynamic: [...tmParams.dynamic, '-D', `taskmanager.resource-id=${name}`] });
      started.push(tm);
      return tm;
    });
    await Promise.all(started.map((p) => writeFile(join(dirs.pid, `${p.name}.pid`), `${p.pid}\n`)));

    const restUrl = `http://127.0.0.1:${restPort}`;
    const deadline = Date.now() + readyTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const dead = started.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (dead) throw new Error(`${dead.name} (pid ${dead.pid}) exited during start-up; the end of ${dead.outFile}:\n${await tail(dead.outFile)}`);
      const o = await overview(restUrl).catch((err: Error) => err);
      if (!(o instanceof Error) && o.taskmanagers === taskManagers) break;
      last = o instanceof Error ? o.message : `${o.taskmanagers} of ${taskManagers} TaskManagers registered`;
      if (Date.now() > deadline) throw new Error(`the local Flink cluster was not ready within ${readyTimeoutMs / 1000}s; last seen: ${last}`);
      await sleep(500);
    }
    return { restUrl, workDir, jobManager, taskManagers: tms, stop, [Symbol.asyncDispose]: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
