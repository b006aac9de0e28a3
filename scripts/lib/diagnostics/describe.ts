// Text renderings for the diagnostics bundle: a `kubectl describe pod`-like page and an event
// table sorted by time. Pure functions of the objects, so they are tested without a cluster.
import type { KubeObject } from '../kube/kube.ts';

/** When an event last happened, whichever field the emitter filled in. */
export function eventTime(e: KubeObject): string {
  return e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
}

export function sortEvents(events: KubeObject[]): KubeObject[] {
  return [...events].sort((a, b) => Date.parse(eventTime(a) || '0') - Date.parse(eventTime(b) || '0'));
}

export function eventLine(e: KubeObject): string {
  const obj = e.involvedObject ?? e.regarding ?? {};
  const count = e.count ?? e.series?.count;
  return [
    eventTime(e) || '-',
    e.type ?? '-',
    e.reason ?? '-',
    `${obj.kind ?? '?'}/${obj.name ?? '?'}`,
    `${(e.message ?? e.note ?? '').replace(/\s+/g, ' ').trim()}${count > 1 ? ` (x${count})` : ''}`,
  ].join('  ');
}

export function eventsText(events: KubeObject[]): string {
  if (events.length === 0) return 'no events\n';
  return `${sortEvents(events).map(eventLine).join('\n')}\n`;
}

function stateText(state: any): string {
  if (!state) return 'unknown';
  if (state.running) return `Running since ${state.running.startedAt ?? '?'}`;
  if (state.waiting) return `Waiting: ${state.waiting.reason ?? ''}${state.waiting.message ? ` - ${state.waiting.message}` : ''}`;
  if (state.terminated) {
    const t = state.terminated;
    const when = t.startedAt || t.finishedAt ? ` ${t.startedAt ?? '?'} .. ${t.finishedAt ?? '?'}` : '';
    return `Terminated: ${t.reason ?? ''} (exit ${t.exitCode}${t.signal ? `, signal ${t.signal}` : ''})${t.message ? ` - ${t.message}` : ''}${when}`;
  }
  return 'unknown';
}

/** The events that concern one object, by uid when set, else by kind and name. */
export function eventsFor(events: KubeObject[], obj: KubeObject): KubeObject[] {
  return events.filter((e) => {
    const io = e.involvedObject ?? e.regarding;
    if (!io) return false;
    if (io.uid && obj.metadata.uid) return io.uid === obj.metadata.uid;
    return io.kind === obj.kind && io.name === obj.metadata.name;
  });
}

export function describePod(pod: KubeObject, events: KubeObject[]): string {
  const s = pod.status ?? {};
  const out: string[] = [];
  out.push(`Name:        ${pod.metadata.name}`);
  out.push(`Namespace:   ${pod.metadata.namespace ?? ''}`);
  out.push(`Node:        ${pod.spec?.nodeName ?? '<none>'}`);
  out.push(`Phase:       ${s.phase ?? 'unknown'}${s.reason ? ` (${s.reason})` : ''}${s.message ? ` - ${s.message}` : ''}`);
  out.push(`Created:     ${pod.metadata.creationTimestamp ?? '?'}`);
  if (pod.metadata.deletionTimestamp) out.push(`Deleting:    since ${pod.metadata.deletionTimestamp}`);
  const labels = Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  out.push(`Labels:      ${labels.join(', ') || '<none>'}`);
  const owners = (pod.metadata.ownerReferences ?? []).map((o: any) => `${o.kind}/${o.name}`);
  if (owners.length) out.push(`Owned by:    ${owners.join(', ')}`);

  out.push('', 'Conditions:');
  for (const c of s.conditions ?? []) {
    out.push(`  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`);
  }
  if (!(s.conditions ?? []).length) out.push('  <none>');

  const specs = new Map<string, any>([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: any) => [c.name, c]));
  const sections: Array<[string, any[]]> = [
    ['Init containers', s.initContainerStatuses ?? []],
    ['Containers', s.containerStatuses ?? []],
  ];
  for (const [title, statuses] of sections) {
    if (!statuses.length && title === 'Init containers') continue;
    out.push('', `${title}:`);
    if (!statuses.length) {
      for (const c of pod.spec?.containers ?? []) out.push(`  ${c.name}: image ${c.image}, no status yet`);
    }
    for (const cs of statuses) {
      out.push(`  ${cs.name}:`);
      out.push(`    Image:      ${cs.image ?? specs.get(cs.name)?.image ?? '?'}`);
      out.push(`    State:      ${stateText(cs.state)}`);
      if (cs.lastState && Object.keys(cs.lastState).length) out.push(`    Last state: ${stateText(cs.lastState)}`);
      out.push(`    Ready:      ${cs.ready ?? false}`);
      out.push(`    Restarts:   ${cs.restartCount ?? 0}`);
    }
  }

  out.push('', 'Events:');
  const own = sortEvents(eventsFor(events, pod));
  out.push(...(own.length ? own.map((e) => `  ${eventLine(e)}`) : ['  <none>']));
  return `${out.join('\n')}\n`;
}
