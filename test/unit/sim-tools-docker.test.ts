// The fake `docker` executable: version/info driven by the docker knobs, a daemon that is
// down, and builds that land in the simulation's image store with content-derived ids.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../sim/harness.ts';

let sim: Sim;
const DOWN = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n';

function context(name: string, files: Record<string, string>): string {
  const dir = join(sim.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(join(dir, f), content);
  return dir;
}

beforeAll(async () => {
  sim = await startSim();
});

afterAll(async () => {
  await sim?.close();
});

describe('fake docker', () => {
  it('reports version and info, with memory and CPUs from the knobs', async () => {
    await sim.patchFaults({ docker: { memBytes: 6 * 2 ** 30, cpus: 3 } });
    const [version, server, info] = await Promise.all([
      sim.tool('docker', ['version']),
      sim.tool('docker', ['version', '--format', '{{.Server.Version}}']),
      sim.tool('docker', ['info', '--format', '{{json .}}']),
    ]);
    expect(version.stdout).toMatch(/^Client: Docker Engine - Community\n Version: +28\.5\.1\n/);
    expect(version.stdout).toContain('Server: Docker Engine - Community');
    expect(server.stdout).toBe('28.5.1\n');
    const data = JSON.parse(info.stdout);
    expect(data).toMatchObject({ ServerVersion: '28.5.1', NCPU: 3, MemTotal: 6 * 2 ** 30, OSType: 'linux', DockerRootDir: '/var/lib/docker' });
    for (const key of ['OperatingSystem', 'Architecture', 'Name']) expect(typeof data[key]).toBe('string');
    const plain = await sim.tool('docker', ['info']);
    expect(plain.stdout).toContain(' CPUs: 3\n Total Memory: 6GiB\n');
    await sim.patchFaults({ docker: null });
  });

  it('fails every daemon call when the daemon is down, like the docker CLI', async () => {
    await sim.patchFaults({ docker: { down: true } });
    const [info, version, build] = await Promise.all([
      sim.tool('docker', ['info', '--format', '{{json .}}']),
      sim.tool('docker', ['version']),
      sim.tool('docker', ['build', '-t', 'x:1', sim.dir]),
    ]);
    await sim.patchFaults({ docker: null });
    expect(info).toMatchObject({ code: 1, stdout: '', stderr: DOWN });
    // `docker version` still prints its client part before failing.
    expect(version).toMatchObject({ code: 1, stderr: DOWN });
    expect(version.stdout).toContain('Client: Docker Engine - Community');
    expect(build).toMatchObject({ code: 1, stderr: DOWN });
  });

  it('builds images into the store; the id follows the content', async () => {
    const dir = context('job', { Dockerfile: 'FROM flink:1.20.4-java17\nCOPY app.jar /opt/flink/usrlib/app.jar\n', 'app.jar': 'v1' });
    const r = await sim.tool('docker', ['build', '-t', 'flink-hello:v1', '-t', 'flink-hello:latest', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('naming to docker.io/library/flink-hello:v1 done');
    const store = (await sim.faults()).dockerImages!;
    const id = store['docker.io/library/flink-hello:v1']!.id;
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(store['docker.io/library/flink-hello:latest']!.id).toBe(id);

    const inspect = await sim.tool('docker', ['image', 'inspect', 'flink-hello:v1', '--format', '{{.Id}}']);
    expect(inspect).toMatchObject({ code: 0, stdout: `${id}\n` });
    const full = JSON.parse((await sim.tool('docker', ['image', 'inspect', 'flink-hello:v1'])).stdout);
    expect(full[0]).toMatchObject({ Id: id, RepoTags: expect.arrayContaining(['flink-hello:v1', 'flink-hello:latest']), Os: 'linux' });

    const same = await sim.tool('docker', ['build', '-q', '-t', 'flink-hello:again', dir]);
    expect(same.stdout).toBe(`${id}\n`);
    writeFileSync(join(dir, 'app.jar'), 'v2');
    const changed = await sim.tool('docker', ['build', '-q', '-t', 'flink-hello:v2', dir]);
    expect(changed.stdout.trim()).not.toBe(id);

    const images = await sim.tool('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.stdout.split('\n').filter(Boolean).sort()).toEqual(['flink-hello:again', 'flink-hello:latest', 'flink-hello:v1', 'flink-hello:v2']);
  });

  it('fails like docker for missing images, contexts and Dockerfiles', async () => {
    const [inspect, noDir, noFile] = await Promise.all([
      sim.tool('docker', ['image', 'inspect', 'nope:1']),
      sim.tool('docker', ['build', '-t', 'x:1', join(sim.dir, 'absent')]),
      sim.tool('docker', ['build', '-t', 'x:1', context('empty', {})]),
    ]);
    expect(inspect).toMatchObject({ code: 1, stdout: '[]\n', stderr: 'Error response from daemon: No such image: nope:1\n' });
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toMatch(/^ERROR: unable to prepare context: path ".*absent" not found\n$/);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('failed to read dockerfile: open Dockerfile: no such file or directory');
  });

  it('fails with the tools knob message `times` times, then works again', async () => {
    const dir = context('flaky', { Dockerfile: 'FROM alpine:3.22\n' });
    await sim.patchFaults({ tools: [{ tool: 'docker', match: '^build ', message: 'ERROR: failed to solve: simulated registry outage', exitCode: 17, times: 2 }] });
    const first = await sim.tool('docker', ['build', '-t', 'flaky:1', dir]);
    const second = await sim.tool('docker', ['build', '-t', 'flaky:1', dir]);
    const third = await sim.tool('docker', ['build', '-t', 'flaky:1', dir]);
    expect([first.code, second.code, third.code]).toEqual([17, 17, 0]);
    expect(first.stderr).toBe('ERROR: failed to solve: simulated registry outage\n');
    expect((await sim.faults()).tools).toEqual([]);
    const calls = (await sim.calls('docker')).filter((c) => c.argv.includes('flaky:1'));
    expect(calls.map((c) => c.argv)).toEqual([['build', '-t', 'flaky:1', dir], ['build', '-t', 'flaky:1', dir], ['build', '-t', 'flaky:1', dir]]);
  });
});
