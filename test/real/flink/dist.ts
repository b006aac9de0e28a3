// A runnable Flink without flink-dist (which Maven Central does not serve): pom.xml beside
// this file names the modules a session cluster needs, and Maven copies their runtime classpath
// into lib/ and the S3 file system into plugins/. The result is cached per version in the user
// cache; the job jar is built from job/pom.xml, exactly as CI and the image build it.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SandboxError } from '../../../scripts/lib/errors.ts';
import { cacheDir, packagePath } from '../../../scripts/lib/paths.ts';

const DIST_POM = fileURLToPath(new URL('pom.xml', import.meta.url));
const JOB_POM = packagePath('job', 'pom.xml');
const STAMP = 'pom.sha256';

export interface FlinkDist {
  flinkVersion: string;
  home: string;
  /** Every jar of the JVMs' classpath. */
  lib: string;
  /** One folder per plugin, as FLINK_PLUGINS_DIR expects. */
  plugins: string;
}

export interface JobVersions {
  flink: string;
  log4j: string;
}

/** flink.version and log4j.version as job/pom.xml pins them: the one place they are set. */
export async function jobVersions(): Promise<JobVersions> {
  const pom = await readFile(JOB_POM, 'utf8');
  const prop = (name: string): string => {
    const value = new RegExp(`<${name.replace('.', '\\.')}>([^<]+)</`).exec(pom)?.[1]?.trim();
    if (!value) throw new Error(`job/pom.xml sets no <${name}>`);
    return value;
  };
  return { flink: prop('flink.version'), log4j: prop('log4j.version') };
}

/** Runs Maven quietly; on failure the error carries the end of its output. */
export async function mvn(args: string[]): Promise<void> {
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('mvn', ['-B', '-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new SandboxError('Maven is needed to assemble Flink and build the job, and `mvn` is not on PATH', {
              hint: 'install Java 17 and Maven 3.8 or newer; the first run downloads Flink from Maven Central into ~/.m2',
            })
          : err,
      ),
    );
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    const tail = output.join('').trim().split('\n').slice(-20).join('\n');
    throw new SandboxError(`mvn ${args.join(' ')} failed (exit ${code}):\n${tail}`, {
      hint: 'Maven Central must be reachable on the first run; re-run with the same command to see whether it was transient',
    });
  }
}

/** The assembled Flink of job/pom.xml's version, assembling it on the first call. */
export async function assembleFlink(versions: JobVersions): Promise<FlinkDist> {
  const home = join(cacheDir(), 'flink', versions.flink);
  const dist = { flinkVersion: versions.flink, home, lib: join(home, 'lib'), plugins: join(home, 'plugins') };
  const hash = createHash('sha256').update(await readFile(DIST_POM)).update(JSON.stringify(versions)).digest('hex');
  const stamp = await readFile(join(home, STAMP), 'utf8').catch(() => '');
  if (stamp.trim() === hash && existsSync(dist.lib)) return dist;

  // Assembled beside the cache entry and renamed into place, so an interrupted run never leaves
  // a lib/ that looks complete.
  const staging = `${home}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await mvn(['-f', DIST_POM, `-Dflink.version=${versions.flink}`, `-Dlog4j.version=${versions.log4j}`, `-Ddist.dir=${staging}`, 'package']);
  await writeFile(join(staging, STAMP), `${hash}\n`);
  await rm(home, { recursive: true, force: true });
  await rename(staging, home);
  return dist;
}

/** Builds job/target/hello-job.jar with job/pom.xml (the tests are CI's `mvn verify`, not run here). */
export async function buildJobJar(): Promise<string> {
  await mvn(['-f', JOB_POM, '-DskipTests', 'package']);
  return packagePath('job', 'target', 'hello-job.jar');
}
