// The Kubernetes REST surface: parses the real URL forms, maps method and path to a verb,
// calls the object semantics (objects.ts, apply.ts), the watch hub, logs and port-forward,
// and records state-changing requests in the audit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyPatch } from './apply.ts';
import type { SimState } from './control.ts';
import { discovery } from './discovery.ts';
import { boolParam, parseJson, readBody, sendJson, sendText } from './http.ts';
import type { LogStore } from './logs.ts';
import { deleteCollection, deleteObject } from './deletion.ts';
import type { Api, DeleteOptions, ListQuery } from './objects.ts';
import { badRequest, conflict, methodNotAllowed, noSuchResource, notFound } from './status.ts';
import { type Obj, type RequestCtx, type ResourceType, apiVersionOf, clone, isObj } from './types.ts';
import type { WatchHub } from './watch.ts';

export interface ApiDeps {
  api: Api;
  state: SimState;
  logs: LogStore;
  watches: WatchHub;
  serverAddress(): string;
}

export interface ResourcePath {
  rt: ResourceType;
  namespace: string;
  name?: string;
  subresource?: string;
  /** The deprecated /watch/ path prefix was used. */
  watchPrefix: boolean;
}

/** Resolves an API path to a served resource; throws NotFound like the server for anything else. */
export function parseResourcePath(api: Api, pathname: string): ResourcePath | undefined {
  const segs = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  const namespaceItself = rest[0] === 'namespaces' && (rest.length <= 2 || (rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize')));
  if (rest[0] === 'namespaces' && !namespaceItself) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) throw noSuchResource();
  const rt = api.registry.find(group, version, rest[0]);
  if (!rt) throw noSuchResource();
  if (namespace && !rt.namespaced) throw noSuchResource();
  if (!namespace && rt.namespaced && rest.length > 1) throw noSuchResource();
  const out: ResourcePath = { rt, namespace, watchPrefix };
  if (rest[1] !== undefined) out.name = rest[1];
  if (rest[2] !== undefined) {
    if (!rt.subresources.includes(rest[2])) throw noSuchResource();
    out.subresource = rest[2];
  }
  return out;
}

function userAgentManager(ua: string | undefined): string {
  const prefix = (ua ?? '').split('/')[0].trim();
  return prefix || 'unknown';
}

export function requestCtx(req: IncomingMessage, q: URLSearchParams, actor: string | undefined): RequestCtx {
  const dryRuns = q.getAll('dryRun');
  for (const v of dryRuns) if (v !== 'All') throw badRequest(`Invalid dry run value: "${v}" (supported values: "All")`);
  // Without the parameter the real server warns about unknown fields and drops them (kubectl sends Strict).
  const fv = q.get('fieldValidation') ?? 'Warn';
  if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') throw badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
  const fm = q.get('fieldManager');
  if (fm !== null && (fm.length === 0 || fm.length > 128)) throw badRequest('fieldManager: Invalid value: must be between 1 and 128 characters');
  return {
    actor: actor ?? 'client',
    fromClient: actor === undefined,
    manager: fm ?? userAgentManager(req.headers['user-agent']),
    dryRun: dryRuns.includes('All'),
    fieldValidation: fv,
    warnings: [],
  };
}

/** The verb the real audit log would name for this request. */
export function verbOf(method: string, p: ResourcePath, q: URLSearchParams): string {
  const watch = p.watchPrefix || boolParam(q.get('watch'));
  switch (method) {
    case 'GET':
      if (p.subresource === 'portforward') return 'connect';
      if (watch) return 'watch';
      return p.name ? 'get' : 'list';
    case 'POST':
      return p.subresource === 'portforward' ? 'connect' : 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return p.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

function listQuery(q: URLSearchParams): ListQuery {
  const limit = q.get('limit');
  return { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector'), limit: limit ? Number(limit) : undefined, continueToken: q.get('continue') };
}

function deleteOptions(q: URLSearchParams, body: Obj | undefined, ctx: RequestCtx): DeleteOptions {
  const opts: DeleteOptions = {};
  const policy = q.get('propagationPolicy') ?? body?.propagationPolicy;
  if (policy) opts.propagationPolicy = String(policy);
  const orphan = q.get('orphanDependents') ?? body?.orphanDependents;
  if (orphan !== undefined && orphan !== null) opts.orphanDependents = orphan === true || orphan === 'true';
  const grace = q.get('gracePeriodSeconds') ?? body?.gracePeriodSeconds;
  if (grace !== undefined && grace !== null && grace !== '') {
    const g = Number(grace);
    if (!Number.isInteger(g)) throw badRequest(`gracePeriodSeconds: Invalid value: "${String(grace)}": must be an integer`);
    opts.gracePeriodSeconds = g;
  }
  if (isObj(body?.preconditions)) opts.preconditions = body.preconditions;
  if (Array.isArray(body?.dryRun)) {
    for (const v of body.dryRun) if (v !== 'All') throw badRequest(`Invalid dry run value: "${String(v)}" (supported values: "All")`);
    if (body.dryRun.includes('All')) ctx.dryRun = true;
  }
  return opts;
}

function patchType(contentType: string): string {
  const t = contentType.split(';')[0].trim();
  return { 'application/json-patch+json': 'json', 'application/merge-patch+json': 'merge', 'application/strategic-merge-patch+json': 'strategic', 'application/apply-patch+yaml': 'apply' }[t] ?? t;
}

/** POST pods/<name>/binding: the scheduler's way to put a pod on a node. */
function bind(api: Api, p: ResourcePath, body: Obj, ctx: RequestCtx): Obj {
  const name = p.name!;
  const pod = api.store.get(p.rt.storageKey, p.namespace, name);
  if (!pod) throw notFound(p.rt, name);
  const node = body.target?.name;
  if (typeof node !== 'string' || !node) throw badRequest('Binding target.name is required');
  if (pod.spec?.nodeName) throw conflict(p.rt, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
  const next = clone(pod);
  next.spec.nodeName = node;
  api.commitUpdate(p.rt, pod, next, ctx, undefined, undefined);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}

/** Handles one API request (discovery, health, resources); errors are thrown as ApiErrors. */
export async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: ApiDeps, actor: string | undefined): Promise<void> {
  const { api, state } = deps;
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  const path = url.pathname.replace(/\/+$/, '') || '/';

  if (['/healthz', '/livez', '/readyz'].includes(path)) return sendText(res, 200, 'ok');
  if (method === 'GET') {
    const doc = discovery(api.registry, path, deps.serverAddress());
    if (doc) {
      state.count(actor ?? 'client', 'discovery');
      return sendJson(res, 200, doc);
    }
  }
  const p = parseResourcePath(api, path);
  if (!p) throw noSuchResource();
  const verb = verbOf(method, p, q);
  state.count(actor ?? 'client', verb);
  const ctx = requestCtx(req, q, actor);
  const { rt } = p;
  const rvBefore = api.store.rv;
  let name = p.name;

  const respond = (code: number, body: Obj): void => {
    if (!['create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb)) return sendJson(res, code, body, ctx.warnings);
    if (!name && verb === 'create') name = body.metadata?.name;
    // Only requests that changed state (or would have, for dry-run) are audited.
    if (api.store.rv !== rvBefore || ctx.dryRun) {
      const entry: Parameters<SimState['record']>[0] = {
        actor: ctx.actor,
        verb,
        method,
        path: url.pathname + url.search,
        apiVersion: apiVersionOf(rt),
        kind: rt.kind,
        resource: rt.resource,
        dryRun: ctx.dryRun,
        code,
      };
      if (p.subresource) entry.subresource = p.subresource;
      if (p.namespace) entry.namespace = p.namespace;
      if (name) entry.name = name;
      if (verb === 'patch') entry.patchType = patchType(String(req.headers['content-type'] ?? ''));
      state.record(entry);
    }
    sendJson(res, code, body, ctx.warnings);
  };

  if (p.subresource === 'log') {
    if (method !== 'GET') throw methodNotAllowed('the server does not allow this method on the requested resource');
    return deps.logs.serve(req, res, api, p.namespace, p.name!, q);
  }
  if (p.subresource === 'portforward') throw badRequest('Upgrade request required');

  switch (method) {
    case 'GET': {
      if (verb === 'watch') {
        const fieldSelector = p.name ? [q.get('fieldSelector'), `metadata.name=${p.name}`].filter(Boolean).join(',') : q.get('fieldSelector');
        const timeout = q.get('timeoutSeconds');
        deps.watches.serve(req, res, {
          rt,
          namespace: p.namespace,
          labelSelector: q.get('labelSelector'),
          fieldSelector,
          resourceVersion: q.get('resourceVersion'),
          timeoutSeconds: timeout !== null ? Number(timeout) : undefined,
          allowWatchBookmarks: boolParam(q.get('allowWatchBookmarks')),
          sendInitialEvents: boolParam(q.get('sendInitialEvents')),
          fromClient: ctx.fromClient,
        });
        return;
      }
      if (p.name) return respond(200, api.get(rt, p.namespace, p.name));
      return respond(200, api.list(rt, p.namespace, listQuery(q)));
    }
    case 'POST': {
      const body = parseJson(await readBody(req), 'error decoding request body');
      if (p.subresource === 'binding') return respond(201, bind(api, p, body, ctx));
      if (p.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
      if (rt.namespaced && !p.namespace) throw methodNotAllowed('the server does not allow this method on the requested resource');
      const created = api.create(rt, p.namespace, body, ctx);
      return respond(201, created);
    }
    case 'PUT': {
      if (!p.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
      const body = parseJson(await readBody(req), 'error decoding request body');
      return respond(200, api.update(rt, p.namespace, p.name, body, ctx, p.subresource));
    }
    case 'PATCH': {
      if (!p.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
      const raw = await readBody(req);
      const contentType = String(req.headers['content-type'] ?? '');
      const force = q.get('force');
      if (contentType.split(';')[0].trim() === 'application/apply-patch+yaml') {
        const r = applyPatch(api, rt, p.namespace, p.name, raw, ctx, q.get('fieldManager') !== null, boolParam(force), p.subresource);
        return respond(r.created ? 201 : 200, r.object);
      }
      if (force !== null) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
      return respond(200, api.patch(rt, p.namespace, p.name, contentType, raw, ctx, p.subresource));
    }
    case 'DELETE': {
      const text = await readBody(req);
      const body = text.trim() ? parseJson(text, 'error decoding DeleteOptions') : undefined;
      const opts = deleteOptions(q, body, ctx);
      if (p.subresource) throw methodNotAllowed('the server does not allow this method on the requested resource');
      if (p.name) {
        const r = deleteObject(api, rt, p.namespace, p.name, opts, ctx);
        return respond(r.code, r.body);
      }
      // Collections of namespaced resources are deleted one namespace at a time.
      if (rt.namespaced && !p.namespace) throw methodNotAllowed('the server does not allow this method on the requested resource');
      return respond(200, deleteCollection(api, rt, p.namespace, listQuery(q), opts, ctx));
    }
    default:
      throw methodNotAllowed('the server does not allow this method on the requested resource');
  }
}

