// core/v1 Events as the real components write them: one Event per (object, reason, message,
// source), and a repeat bumps `count` and `lastTimestamp` instead of creating another one
// (client-go's event correlator does the same).
import { randomBytes } from 'node:crypto';
import type { KubeObject, SimClient } from '../api-client.ts';
import { simLog } from './informer.ts';

export interface EventSource {
  component: string;
  host?: string;
}

export interface EventInput {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** e.g. `spec.containers{app}` for container events. */
  fieldPath?: string;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

export class EventRecorder {
  // One client per reporting component, so the audit log names who wrote the Event.
  private readonly client: (actor: string) => SimClient;
  private readonly seen = new Map<string, Recorded>();
  // Writes for one key are chained so that count bumps do not race each other.
  private readonly chains = new Map<string, Promise<void>>();

  constructor(client: (actor: string) => SimClient) {
    this.client = client;
  }

  /** Records an event about `obj`; never throws (events are best effort, as in Kubernetes). */
  record(obj: KubeObject, source: EventSource, ev: EventInput): Promise<void> {
    const key = [obj.metadata.uid, obj.metadata.name, source.component, source.host, ev.fieldPath, ev.reason, ev.message].join('\u0000');
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.write(key, obj, source, ev)).catch((err: unknown) => simLog(`event ${ev.reason}: ${String(err)}`));
    this.chains.set(key, next);
    return next;
  }

  private async write(key: string, obj: KubeObject, source: EventSource, ev: EventInput): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const namespace = obj.metadata.namespace ?? 'default';
    const known = this.seen.get(key);
    if (known) {
      known.count += 1;
      try {
        await this.client(source.component).mergePatch(`/api/v1/namespaces/${known.namespace}/events/${known.name}`, { count: known.count, lastTimestamp: now });
        return;
      } catch {
        // the Event was deleted (or its namespace): write a fresh one below
        this.seen.delete(key);
      }
    }
    const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
    await this.client(source.component).create(`/api/v1/namespaces/${namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        ...(ev.fieldPath ? { fieldPath: ev.fieldPath } : {}),
      },
      reason: ev.reason,
      message: ev.message,
      type: ev.type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    });
    this.seen.set(key, { name, namespace, count: 1, firstTimestamp: now });
  }
}
