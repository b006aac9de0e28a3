// Smoke run of the real parts: assembles Flink from Maven Central jars, starts one JobManager
// and two TaskManagers as separate JVMs, submits the hello-world job over REST and waits until
// both TaskManagers' logs hold its record lines; then cancels it and stops every process by its
// pid.
//
//   npx node test/real/flink/smoke.ts [--keep]     (--keep leaves the work dir for reading)
//
// Needs Java 17 and Maven; the first run downloads ~110 MB into ~/.m2.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseSequenceLine, type SequenceRecord } from '../../../scripts/lib/flink/sequence-line.ts';
import { pathToFileURL } from 'node:url';
import { startLocalFlink, type FlinkProcess } from './cluster.ts';
import { assembleFlink, buildJobJar, jobVersions } from './dist.ts';
import { freePort } from './ports.ts';
import { cancelJob, jobState, submitJar } from './rest.ts';

const RECORDS_PER_TASKMANAGER = 10;
const WAIT_MS = 120_000;

async function recordsIn(file: string): Promise<SequenceRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    const r = parseSequenceLine(line);
    return r && 'seq' in r ? [r] : [];
  });
}

function describe(tm: FlinkProcess, out: SequenceRecord[], log: SequenceRecord[]): string {
  const seqs = out.map((r) => r.seq);
  const subtasks = [...new Set(out.map((r) => r.subtask))].join(',');
  return `${tm.name} (pid ${tm.pid}): ${out.length} JSON record lines in ${tm.outFile} (seq ${Math.min(...seqs)}..${Math.max(...seqs)}, subtask ${subtasks}), ${log.length} in ${tm.logFile}`;
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const versions = await jobVersions();
  console.log(`building the job jar and assembling Flink ${versions.flink} (log4j ${versions.log4j}) ...`);
  const [jar, dist] = [await buildJobJar(), await assembleFlink(versions)];
  const workDir = await mkdtemp(join(tmpdir(), 'flink-sandbox-flink-'));
  const started = Date.now();
  // No S3 and no HA: local directories, so the smoke run needs nothing but Java and Maven.
  const config = {
    'jobmanager.rpc.address': 'localhost',
    'jobmanager.rpc.port': String(await freePort()),
    'jobmanager.bind-host': 'localhost',
    'jobmanager.memory.process.size': '1024m',
    'taskmanager.bind-host': 'localhost',
    'taskmanager.host': 'localhost',
    'taskmanager.numberOfTaskSlots': '1',
    'taskmanager.memory.process.size': '1536m',
    'rest.address': '127.0.0.1',
    'rest.bind-address': '127.0.0.1',
    'rest.port': String(await freePort()),
    'execution.checkpointing.interval': '5s',
    'state.backend.type': 'rocksdb',
    'execution.checkpointing.dir': pathToFileURL(join(workDir, 'checkpoints')).href,
    'io.tmp.dirs': join(workDir, 'tmp'),
    'web.upload.dir': join(workDir, 'upload'),
  };
  const cluster = await startLocalFlink(dist, { workDir, config, taskManagers: 2 });
  const interrupted = (): void => void cluster.stop().then(() => process.exit(130));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    console.log(`cluster up in ${((Date.now() - started) / 1000).toFixed(1)}s at ${cluster.restUrl}; work dir ${workDir}`);
    for (const p of cluster.processes) console.log(`  ${p.name}: pid ${p.pid}, log ${p.logFile}`);
    const jobId = await submitJar(cluster.restUrl, jar, {
      entryClass: 'dev.flinksandbox.hello.HelloJob',
      programArgsList: ['--rate', '20'],
      parallelism: 2,
    });
    console.log(`submitted job ${jobId}`);

    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const seen = await Promise.all(cluster.liveTaskManagers().map((tm) => recordsIn(tm.outFile)));
      if (seen.every((records) => records.length >= RECORDS_PER_TASKMANAGER)) break;
      if (Date.now() > deadline) {
        const state = await jobState(cluster.restUrl, jobId).catch((err: Error) => err.message);
        throw new Error(`within ${WAIT_MS / 1000}s the TaskManagers logged ${seen.map((r) => r.length).join(' and ')} record lines (job state: ${state})`);
      }
      await sleep(1000);
    }
    console.log(`job ${jobId} is ${await jobState(cluster.restUrl, jobId)}`);
    for (const tm of cluster.liveTaskManagers()) console.log(`  ${describe(tm, await recordsIn(tm.outFile), await recordsIn(tm.logFile))}`);
    // Cancelled before the processes stop, so the logs end with a cancel, not with a task that
    // failed because its peer TaskManager went away.
    await cancelJob(cluster.restUrl, jobId);
    console.log(`cancelled job ${jobId}`);
  } finally {
    process.removeListener('SIGINT', interrupted).removeListener('SIGTERM', interrupted);
    await cluster.stop();
    const left = cluster.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    console.log(left.length === 0 ? 'stopped every process by pid' : `still running: ${left.map((p) => p.pid).join(' ')}`);
    if (!keep) await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
