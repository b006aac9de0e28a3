// A fake `docker` CLI: version/info from the `docker` fault knob (daemon down, memory,
// CPUs), and an image store kept in the simulation (faults key `dockerImages`) that
// `docker build` fills with content-addressed ids and `kind load docker-image` reads.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { patchFaults, type DockerImage } from '../faults.ts';
import { imageRepository, normalizeImage } from '../image-ref.ts';
import { DOCKER_DOWN, ToolExit, bool, flag, flags, parseArgs, runTool, type ToolContext } from './common.ts';
import { renderGoTemplate } from './go-format.ts';

const VERSION = '28.5.1';
const API = '1.51';
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const KERNEL_ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const DEFAULT_MEM = 16 * 2 ** 30;
const DEFAULT_CPUS = 8;

async function daemon(ctx: ToolContext): Promise<void> {
  if ((await ctx.faults()).docker?.down) throw new ToolExit(DOCKER_DOWN, 1);
}

function formatFlag(argv: string[]): string | undefined {
  return flag(parseArgs(argv, { aliases: { f: 'format' }, boolean: ['q', 'quiet', 'a', 'all', 'no-trunc', 'digests'] }), 'format');
}

function clientInfo(): Record<string, unknown> {
  return { Platform: { Name: 'Docker Engine - Community' }, Version: VERSION, ApiVersion: API, DefaultAPIVersion: API, GitCommit: 'e180ab8', GoVersion: 'go1.24.8', Os: 'linux', Arch: ARCH, BuildTime: 'Wed Oct  8 12:17:26 2025', Context: 'default' };
}

async function version(ctx: ToolContext, argv: string[]): Promise<void> {
  const format = formatFlag(argv);
  const down = (await ctx.faults()).docker?.down;
  const server = down
    ? null
    : {
        Platform: { Name: 'Docker Engine - Community' },
        Components: [{ Name: 'Engine', Version: VERSION, Details: { ApiVersion: API, MinAPIVersion: '1.24', Os: 'linux', Arch: ARCH } }],
        Version: VERSION,
        ApiVersion: API,
        MinAPIVersion: '1.24',
        GitCommit: 'f8215cc',
        GoVersion: 'go1.24.8',
        Os: 'linux',
        Arch: ARCH,
        KernelVersion: '6.8.0-generic',
        BuildTime: '2025-10-08T12:17:26.000000000+00:00',
      };
  if (format) {
    if (down) throw new ToolExit(DOCKER_DOWN, 1);
    ctx.out(`${renderGoTemplate(format, { Client: clientInfo(), Server: server })}\n`);
    return;
  }
  ctx.out(
    [
      'Client: Docker Engine - Community',
      ` Version:           ${VERSION}`,
      ` API version:       ${API}`,
      ' Go version:        go1.24.8',
      ' Git commit:        e180ab8',
      ' Built:             Wed Oct  8 12:17:26 2025',
      ` OS/Arch:           linux/${ARCH}`,
      ' Context:           default',
      '',
    ].join('\n'),
  );
  if (down) throw new ToolExit(DOCKER_DOWN, 1);
  ctx.out(
    [
      'Server: Docker Engine - Community',
      ' Engine:',
      `  Version:          ${VERSION}`,
      `  API version:      ${API} (minimum version 1.24)`,
      '  Go version:       go1.24.8',
      '  Git commit:       f8215cc',
      '  Built:            Wed Oct  8 12:17:26 2025',
      `  OS/Arch:          linux/${ARCH}`,
      '  Experimental:     false',
      ' containerd:',
      '  Version:          v1.7.28',
      '',
    ].join('\n'),
  );
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2).replace(/\.?0+$/, '')}GiB`;
}

async function info(ctx: ToolContext, argv: string[]): Promise<void> {
  await daemon(ctx);
  const faults = await ctx.faults();
  const images = Object.keys(faults.dockerImages ?? {}).length;
  const data = {
    ID: '6f3b2c1a-8d4e-4f5a-9b7c-2e1d0c9b8a7f',
    Containers: 0,
    ContainersRunning: 0,
    ContainersPaused: 0,
    ContainersStopped: 0,
    Images: images,
    Driver: 'overlay2',
    MemoryLimit: true,
    SwapLimit: true,
    CgroupDriver: 'systemd',
    CgroupVersion: '2',
    NEventsListener: 0,
    KernelVersion: '6.8.0-generic',
    OperatingSystem: 'Ubuntu 24.04.3 LTS',
    OSVersion: '24.04',
    OSType: 'linux',
    Architecture: KERNEL_ARCH,
    IndexServerAddress: 'https://index.docker.io/v1/',
    NCPU: faults.docker?.cpus ?? DEFAULT_CPUS,
    MemTotal: faults.docker?.memBytes ?? DEFAULT_MEM,
    DockerRootDir: '/var/lib/docker',
    Name: 'sim-docker-host',
    ServerVersion: VERSION,
    Runtimes: { runc: { path: 'runc' } },
    DefaultRuntime: 'runc',
    Warnings: null,
    ClientInfo: { Debug: false, Version: VERSION, Context: 'default' },
  };
  const format = formatFlag(argv);
  if (format) {
    ctx.out(`${renderGoTemplate(format, data)}\n`);
    return;
  }
  ctx.out(
    [
      'Client: Docker Engine - Community',
      ` Version:    ${VERSION}`,
      ' Context:    default',
      ' Debug Mode: false',
      '',
      'Server:',
      ` Containers: 0`,
      ` Images: ${images}`,
      ` Server Version: ${VERSION}`,
      ' Storage Driver: overlay2',
      ' Cgroup Driver: systemd',
      ' Cgroup Version: 2',
      ` Kernel Version: ${data.KernelVersion}`,
      ` Operating System: ${data.OperatingSystem}`,
      ` OSType: ${data.OSType}`,
      ` Architecture: ${data.Architecture}`,
      ` CPUs: ${data.NCPU}`,
      ` Total Memory: ${gib(data.MemTotal)}`,
      ` Name: ${data.Name}`,
      ` Docker Root Dir: ${data.DockerRootDir}`,
      '',
    ].join('\n'),
  );
}

const SKIP = new Set(['.git', 'node_modules', 'target', '.sandbox']);

/** Content hash of the build context: same files, Dockerfile and args -> same image id. */
function contextHash(dir: string, dockerfile: string, args: string[]): { id: string; bytes: number } {
  const h = createHash('sha256');
  let bytes = 0;
  h.update(readFileSync(dockerfile));
  h.update(args.join('\n'));
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIP.has(entry.name)) continue;
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const content = readFileSync(full);
        bytes += content.length;
        h.update(relative(dir, full));
        h.update(content);
      }
    }
  };
  walk(dir);
  return { id: `sha256:${h.digest('hex')}`, bytes };
}

async function build(ctx: ToolContext, argv: string[]): Promise<void> {
  const p = parseArgs(argv, { boolean: ['q', 'quiet', 'load', 'push', 'no-cache', 'pull', 'rm'], aliases: { t: 'tag', f: 'file', quiet: 'q' } });
  const dir = p.positional[0];
  if (!dir) throw new ToolExit('ERROR: docker: \'docker buildx build\' requires 1 argument\n\nUsage:  docker buildx build [OPTIONS] PATH | URL | -\n\nRun \'docker buildx build --help\' for more information');
  await daemon(ctx);
  const context = resolve(dir);
  if (!existsSync(context) || !statSync(context).isDirectory()) throw new ToolExit(`ERROR: unable to prepare context: path "${dir}" not found`);
  const file = flag(p, 'file') ? resolve(flag(p, 'file')!) : join(context, 'Dockerfile');
  if (!existsSync(file)) throw new ToolExit(`ERROR: failed to build: failed to solve: failed to read dockerfile: open ${relative(context, file) || 'Dockerfile'}: no such file or directory`);
  const tags = flags(p, 'tag');
  const { id, bytes } = contextHash(context, file, flags(p, 'build-arg'));
  const created = new Date().toISOString();
  const record: DockerImage = { id, created, sizeBytes: 150_000_000 + bytes };
  const patch: Record<string, DockerImage> = {};
  for (const t of tags) patch[normalizeImage(t)] = record;
  // An untagged build is still stored, under its id.
  if (tags.length === 0) patch[id] = record;
  await patchFaults(ctx.url, 'docker', { dockerImages: patch });
  if (bool(p, 'q')) {
    ctx.out(`${id}\n`);
    return;
  }
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /^\s*(FROM|RUN|COPY|ADD)\b/i.test(l));
  ctx.err(`#0 building with "default" instance using docker driver\n\n#1 [internal] load build definition from ${relative(context, file) || 'Dockerfile'}\n#1 transferring dockerfile: ${statSync(file).size}B done\n#1 DONE 0.0s\n\n`);
  let n = 2;
  for (const l of lines) ctx.err(`#${n} [${n - 1}/${lines.length}] ${l.trim()}\n#${n++} CACHED\n\n`);
  ctx.err(`#${n} exporting to image\n#${n} exporting layers done\n#${n} writing image ${id} done\n`);
  for (const t of tags) ctx.err(`#${n} naming to ${normalizeImage(t)} done\n`);
  ctx.err(`#${n} DONE 0.1s\n`);
}

function findImage(store: Record<string, DockerImage>, ref: string): { ref: string; image: DockerImage } | undefined {
  const n = normalizeImage(ref);
  if (store[n]) return { ref: n, image: store[n] };
  const byId = Object.entries(store).find(([, img]) => img.id === ref || img.id === `sha256:${ref}` || img.id.slice(7).startsWith(ref.replace(/^sha256:/, '')));
  return byId ? { ref: byId[0], image: byId[1] } : undefined;
}

/** What `docker image inspect` returns for one image. */
function inspectData(store: Record<string, DockerImage>, image: DockerImage): Record<string, unknown> {
  const tags = Object.entries(store)
    .filter(([r, img]) => img.id === image.id && !r.startsWith('sha256:'))
    .map(([r]) => r.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, ''));
  return {
    Id: image.id,
    RepoTags: tags,
    RepoDigests: [],
    Parent: '',
    Comment: 'buildkit.dockerfile.v0',
    Created: image.created,
    DockerVersion: '',
    Author: '',
    Config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: null, WorkingDir: '/', Labels: null },
    Architecture: ARCH,
    Os: 'linux',
    Size: image.sizeBytes,
    RootFS: { Type: 'layers', Layers: [image.id] },
    Metadata: { LastTagTime: image.created },
  };
}

async function imageInspect(ctx: ToolContext, argv: string[]): Promise<void> {
  await daemon(ctx);
  const p = parseArgs(argv, { aliases: { f: 'format' } });
  const store = (await ctx.faults()).dockerImages ?? {};
  const found: Record<string, unknown>[] = [];
  const missing: string[] = [];
  for (const ref of p.positional) {
    const hit = findImage(store, ref);
    if (hit) found.push(inspectData(store, hit.image));
    else missing.push(ref);
  }
  const format = flag(p, 'format');
  if (format) for (const d of found) ctx.out(`${renderGoTemplate(format, d)}\n`);
  else ctx.out(`${JSON.stringify(found, null, 4)}\n`);
  if (missing.length) throw new ToolExit(missing.map((r) => `Error response from daemon: No such image: ${r}`).join('\n'), 1);
}

function ago(iso: string): string {
  const s = Math.max(1, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  return `${Math.round(s / 3600)} hours ago`;
}

async function images(ctx: ToolContext, argv: string[]): Promise<void> {
  await daemon(ctx);
  const p = parseArgs(argv, { boolean: ['q', 'quiet', 'a', 'all', 'no-trunc', 'digests'], aliases: { quiet: 'q' } });
  const store = (await ctx.faults()).dockerImages ?? {};
  const want = p.positional[0];
  const rows = Object.entries(store)
    .filter(([ref]) => !ref.startsWith('sha256:'))
    .map(([ref, img]) => {
      const repo = imageRepository(ref).replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
      const tag = ref.slice(ref.lastIndexOf(':') + 1);
      return { Repository: repo, Tag: tag, ID: img.id.slice(7, 19), CreatedSince: ago(img.created), CreatedAt: img.created, Size: `${Math.round(img.sizeBytes / 1e6)}MB` };
    })
    .filter((r) => !want || r.Repository === want.split(':')[0] && (!want.includes(':') || r.Tag === want.split(':')[1]));
  const format = flag(p, 'format');
  if (bool(p, 'q')) {
    for (const r of rows) ctx.out(`${r.ID}\n`);
    return;
  }
  if (format) {
    for (const r of rows) ctx.out(`${renderGoTemplate(format, r)}\n`);
    return;
  }
  const pad = (s: string, n: number): string => s.padEnd(n);
  ctx.out(`${pad('REPOSITORY', 30)} ${pad('TAG', 20)} ${pad('IMAGE ID', 14)} ${pad('CREATED', 16)} SIZE\n`);
  for (const r of rows) ctx.out(`${pad(r.Repository, 30)} ${pad(r.Tag, 20)} ${pad(r.ID, 14)} ${pad(r.CreatedSince, 16)} ${r.Size}\n`);
}

async function tag(ctx: ToolContext, argv: string[]): Promise<void> {
  await daemon(ctx);
  const [src, dst] = argv;
  if (!src || !dst) throw new ToolExit('"docker tag" requires exactly 2 arguments.\nSee \'docker tag --help\'.\n\nUsage:  docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]');
  const hit = findImage((await ctx.faults()).dockerImages ?? {}, src);
  if (!hit) throw new ToolExit(`Error response from daemon: No such image: ${src}`);
  await patchFaults(ctx.url, 'docker', { dockerImages: { [normalizeImage(dst)]: hit.image } });
}

/**
 * `docker ps`: the only containers are the node containers of the simulated kind clusters,
 * named and labelled as kind does (`io.x-k8s.kind.cluster=<name>`); filters other than that
 * label (e.g. publish=) match none of them.
 */
async function ps(ctx: ToolContext, argv: string[]): Promise<void> {
  await daemon(ctx);
  const p = parseArgs(argv, { boolean: ['q', 'quiet', 'a', 'all', 'no-trunc'], aliases: { quiet: 'q', f: 'filter' } });
  const filters = flags(p, 'filter');
  const label = /^label=io\.x-k8s\.kind\.cluster(?:=(.*))?$/;
  const only = filters.map((f) => label.exec(f)).filter((m) => m !== null);
  const names: string[] = [];
  if (filters.length === only.length) {
    const list = await ctx.api.request<Array<{ name: string }> | { items?: Array<{ name: string }> }>('GET', '/_sim/clusters');
    const clusters = (Array.isArray(list) ? list : (list.items ?? [])).map((c) => c.name).filter((c) => only.every((m) => m[1] === undefined || m[1] === c));
    const nodes = clusters.length ? await ctx.api.list('/api/v1/nodes') : { items: [] };
    for (const node of nodes.items) {
      const name = node.metadata.name ?? '';
      if (clusters.some((c) => name.startsWith(`${c}-`))) names.push(name);
    }
  }
  const format = flag(p, 'format');
  if (!format && !bool(p, 'q')) ctx.out('CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  for (const name of names) ctx.out(format ? `${renderGoTemplate(format, { Names: name, Labels: '' })}\n` : `${name}\n`);
}

async function main(ctx: ToolContext): Promise<void> {
  const [cmd, ...rest] = ctx.argv;
  switch (cmd) {
    case 'version':
    case '--version':
      if (cmd === '--version') ctx.out(`Docker version ${VERSION}, build e180ab8\n`);
      else await version(ctx, rest);
      return;
    case 'info':
      return info(ctx, rest);
    case 'build':
      return build(ctx, rest);
    case 'buildx':
      if (rest[0] === 'build') return build(ctx, rest.slice(1));
      if (rest[0] === 'version') {
        ctx.out('github.com/docker/buildx v0.29.1 a32761aeb3debd39be1eca514af3693af0db334b\n');
        return;
      }
      break;
    case 'image':
      if (rest[0] === 'inspect') return imageInspect(ctx, rest.slice(1));
      if (rest[0] === 'ls' || rest[0] === 'list') return images(ctx, rest.slice(1));
      if (rest[0] === 'tag') return tag(ctx, rest.slice(1));
      break;
    case 'inspect':
      return imageInspect(ctx, rest.filter((a, i) => a !== '--type' && rest[i - 1] !== '--type'));
    case 'images':
      return images(ctx, rest);
    case 'tag':
      return tag(ctx, rest);
    case 'ps':
      return ps(ctx, rest);
    default:
      break;
  }
  throw new ToolExit(`docker: '${[cmd, rest[0]].filter(Boolean).join(' ')}' is not a docker command.\nSee 'docker --help'`, 1);
}

await runTool('docker', main);
