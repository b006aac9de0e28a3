// The one door to the Kubernetes API. Everything the CLI reads or changes in a cluster goes
// through the `Kube` interface below; the implementation lives next to this file (connect.ts
// builds one). It never imports connect.ts or api.ts, so every part may import it without a cycle.
// Objects are plain JSON as the API server sends them (no client-side model classes), so a
// field the client library does not know is never dropped on the way in or out.
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import { SandboxError } from '../errors.ts';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: any };
  [k: string]: any;
};

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions {
  namespace?: string;
  name?: string;
  labelSelector?: string;
}

export interface FollowLogsOptions {
  signal?: AbortSignal;
  /** Also emit the previous (terminated) attempt's log before the current one. */
  previous?: boolean;
  /** Default true: start at the first line of the current attempt; false: only lines written from now on. */
  sinceStart?: boolean;
}

export interface PortForwardTarget {
  namespace: string;
  pod?: string;
  service?: string;
  /** The pod's container port, or the Service's port (mapped to its targetPort). */
  port: number;
}

export interface PortForward extends AsyncDisposable {
  localPort: number;
  url(scheme?: 'http' | 'https', path?: string): string;
  close(): Promise<void>;
}

export interface Kube {
  readonly context: string;
  readonly server: string;
  /**
   * Server-side apply (fieldManager 'sandbox'), many documents in order; returns the applied
   * objects. A field another manager changed is reported (ApplyConflictError) unless `force`
   * (or the connection's forceConflicts) says to take it over.
   */
  apply(objects: KubeObject[], opts?: { dryRun?: boolean; force?: boolean }): Promise<KubeObject[]>;
  /** Create with dryRun=All: throws the API's error if refused (webhook gate). Persists nothing. */
  createDryRun(object: KubeObject): Promise<void>;
  /** undefined when the object (or its kind) does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** Every kind the server can list (each group's preferred version), e.g. to see what a namespace holds. */
  listableKinds(): Promise<Array<{ apiVersion: string; kind: string; namespaced: boolean }>>;
  /** JSON merge patch (fieldManager 'sandbox'); `subresource: 'status'` writes the status subresource. */
  patchMerge(ref: ObjectRef, patch: object, opts?: { subresource?: 'status' }): Promise<KubeObject>;
  /** false when the object was already absent; `wait` returns only once it is gone (or `signal` aborts). */
  delete(ref: ObjectRef, opts?: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal }): Promise<boolean>;
  /** List then watch; re-lists on 410 Gone, reconnects on drops, until closed or aborted. */
  watch(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    signal?: AbortSignal,
  ): Promise<{ close(): void }>;
  /**
   * Streams a container's log lines, following restarts (next attempt) until aborted or the pod
   * is gone. `time` is the kubelet's RFC 3339 timestamp of the line ('' if it sent none).
   */
  followLogs(
    namespace: string,
    pod: string,
    container: string,
    onLine: (line: string, attempt: number, time: string) => void,
    opts?: FollowLogsOptions,
  ): Promise<void>;
  logs(namespace: string, pod: string, container: string, opts?: { previous?: boolean; tailLines?: number }): Promise<string>;
  /** Port-forward from 127.0.0.1:<random free port> to a pod, or to a ready pod behind a Service. */
  portForward(target: PortForwardTarget): Promise<PortForward>;
}

export { KubeApiError, isApiError } from './api-error.ts';
export { ApplyConflictError, type FieldConflict } from './conflicts.ts';

/** "Deployment cert-manager/cert-manager", or "Namespace flink" for cluster-scoped objects. */
export function describeRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** True when the object's status lists condition `type` with status `status` (Pods and Nodes alike). */
export function hasCondition(obj: KubeObject, type: string, status = 'True'): boolean {
  const conditions: Array<{ type?: string; status?: string }> = obj.status?.conditions ?? [];
  return conditions.some((c) => c.type === type && c.status === status);
}

/** Ready as the kubelet reports it. A pod being deleted may still say so: traffic checks that too. */
export function isPodReady(pod: KubeObject): boolean {
  return hasCondition(pod, 'Ready');
}

/** The reference of an object, for describeRef and the CRUD calls. */
export function refOf(obj: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

/** A document `yaml` could not read, reported when parseManifests reaches it. */
class BrokenDocument extends SandboxError {}

/**
 * The documents of a multi-document YAML text, in order. js-yaml reads the 2 MB of CRDs a chart
 * prints about ten times faster than `yaml` and gives the same values for YAML 1.2's core schema;
 * text it refuses (a syntax error, a tag it does not know, a complex key) and text naming a YAML
 * version go to `yaml`, whose verdict and messages stay the ones the CLI shows.
 */
function yamlDocuments(yamlText: string): unknown[] {
  if (!/^%/m.test(yamlText)) {
    try {
      return loadAll(yamlText, { schema: CORE_SCHEMA });
    } catch {
      // read again below, for yaml's answer
    }
  }
  // parseAllDocuments returns an EmptyStream (not an array) for text with no documents.
  const docs = parseAllDocuments(yamlText);
  if (!Array.isArray(docs)) return [];
  // A broken document is reported where parseManifests reaches it, after the ones before it.
  return docs.map((doc, i) =>
    doc.errors.length > 0
      ? new BrokenDocument(`invalid YAML in document ${i + 1}: ${doc.errors[0].message}`, {
          hint: 'fix the manifest; every document must be a Kubernetes object',
          cause: doc.errors[0],
        })
      : doc.toJS(),
  );
}

/** Multi-document YAML to objects; empty documents (comments only, `---` at the end) are skipped. */
export function parseManifests(yamlText: string): KubeObject[] {
  const out: KubeObject[] = [];
  yamlDocuments(yamlText).forEach((value, i) => {
    if (value instanceof BrokenDocument) throw value;
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new SandboxError(`document ${i + 1} is not a Kubernetes object`, { hint: 'each YAML document must be a mapping with apiVersion, kind and metadata.name' });
    }
    const obj = value as Partial<KubeObject>;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') {
      throw new SandboxError(`document ${i + 1} lacks apiVersion, kind or metadata.name`, { hint: 'each YAML document must be a Kubernetes object' });
    }
    out.push(obj as KubeObject);
  });
  return out;
}
