// The ZooKeeper server behind the real Flink's high availability. The sandbox uses Flink's
// `kubernetes` HA, which needs a Kubernetes API server; here ZooKeeper (the other HA service
// Flink ships) keeps the leader address, the job graphs and the checkpoint pointers, while the
// HA storage dir stays on S3 exactly as in the manifest. Assembled by Maven at the ZooKeeper
// version flink-runtime's shaded client carries, cached per version, run as ZooKeeperServerMain.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../../../scripts/lib/paths.ts';
import { mvn, type FlinkDist } from './dist.ts';
import { freePort } from './ports.ts';

const POM = fileURLToPath(new URL('zookeeper/pom.xml', import.meta.url));
const MAIN = 'org.apache.zookeeper.server.ZooKeeperServerMain';
const CLI_MAIN = 'org.apache.zookeeper.ZooKeeperMain';
const STAMP = 'pom.sha256';
// Plain lines on stdout, warnings and up: ZooKeeper is scaffolding here, its log is for failures.
const LOG4J = ['rootLogger.level = WARN', 'rootLogger.appenderRef.console.ref = Console', 'appender.console.name = Console', 'appender.console.type = Console', 'appender.console.layout.type = PatternLayout', 'appender.console.layout.pattern = %d %-5p %c - %m%n', ''].join('\n');

/** The ZooKeeper version of Flink's own client: flink-shaded-zookeeper-3-<zk>-<shaded>.jar in lib/. */
export async function flinkZooKeeperVersion(dist: FlinkDist): Promise<string> {
  for (const f of await readdir(dist.lib)) {
    const m = /^flink-shaded-zookeeper-3-(\d+\.\d+\.\d+)-[\d.]+\.jar$/.exec(f);
    if (m) return m[1]!;
  }
  throw new Error(`${dist.lib} holds no flink-shaded-zookeeper-3 jar, so the ZooKeeper version is unknown`);
}

/** lib/ of the ZooKeeper server, assembling it on the first call. */
export async function assembleZooKeeper(dist: FlinkDist, log4jVersion: string): Promise<{ version: string; lib: string }> {
  const version = await flinkZooKeeperVersion(dist);
  const home = join(cacheDir(), 'zookeeper', version);
  const lib = join(home, 'lib');
  const stampFile = join(home, STAMP);
  const hash = createHash('sha256').update(await readFile(POM)).update(`${version} ${log4jVersion}`).digest('hex');
  if (existsSync(lib) && (await readFile(stampFile, 'utf8').catch(() => '')).trim() === hash) return { version, lib };
  const staging = `${home}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mvn(['-f', POM, `-Dzookeeper.version=${version}`, `-Dlog4j.version=${log4jVersion}`, `-Ddist.dir=${staging}`, 'package']);
  await writeFile(join(staging, STAMP), `${hash}\n`);
  await rm(home, { recursive: true, force: true });
  await rename(staging, home);
  return { version, lib };
}

export interface LocalZooKeeper extends AsyncDisposable {
  /** host:port, as high-availability.zookeeper.quorum takes it. */
  quorum: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** One four-letter-word command; resolves with the answer, or an Error. */
function fourLetters(port: number, word: string): Promise<string | Error> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(word));
    socket.setTimeout(2000, () => socket.destroy(new Error('no answer within 2s')));
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', (err) => resolve(err));
    socket.on('close', () => resolve(answer));
  });
}

/** A standalone ZooKeeper on 127.0.0.1 and a free port, with its data under workDir. */
export async function startZooKeeper(lib: string, workDir: string, timeoutMs = 60_000): Promise<LocalZooKeeper> {
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const conf = join(workDir, 'zoo.cfg');
  // No admin server: it would take port 8080. `ruok` is the readiness probe.
  await writeFile(
    conf,
    [`tickTime=2000`, `dataDir=${dataDir}`, `clientPort=${port}`, `clientPortAddress=127.0.0.1`, `admin.enableServer=false`, `4lw.commands.whitelist=ruok`, ''].join('\n'),
  );
  const log4j = join(workDir, 'log4j.properties');
  await writeFile(log4j, LOG4J);
  const logFile = join(workDir, 'zookeeper.out');
  const out = openSync(logFile, 'a');
  const child = spawn('java', ['-Xmx128m', `-Dlog4j.configurationFile=${log4j}`, '-cp', `${lib}/*`, MAIN, conf], { stdio: ['ignore', out, out] });
  closeSync(out);
  if (child.pid === undefined) throw new Error('could not start ZooKeeper: java did not start');
  const pid = child.pid;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(pid, 'SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) {
      process.kill(pid, 'SIGKILL');
      await exited;
    }
  };
  const deadline = Date.now() + timeoutMs;
  let last: string | Error = 'no answer yet';
  while ((last = await fourLetters(port, 'ruok')) !== 'imok') {
    if (child.exitCode !== null) throw new Error(`ZooKeeper exited (${child.exitCode}) during start-up; see ${logFile}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ZooKeeper on port ${port} did not answer ruok within ${timeoutMs / 1000}s (last: ${last instanceof Error ? last.message : JSON.stringify(last)}); see ${logFile}`);
    }
    await sleep(250);
  }
  return { quorum: `127.0.0.1:${port}`, pid, logFile, stop, [Symbol.asyncDispose]: stop };
}

/** Runs one command of ZooKeeper's command-line client (ZooKeeperMain) against `quorum`; its output. */
export async function zkCli(lib: string, quorum: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx64m', '-cp', `${lib}/*`, CLI_MAIN, '-server', quorum, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ZooKeeperMain ${args.join(' ')} failed (exit ${code}): ${out}`))));
  });
}
