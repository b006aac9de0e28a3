import { describe, expect, it } from 'vitest';
import { describePod, eventsFor, eventsText } from '../../scripts/lib/diagnostics/describe.ts';
import { errorText } from '../../scripts/lib/diagnostics/bundle.ts';
import { SandboxError } from '../../scripts/lib/errors.ts';
import type { KubeObject } from '../../scripts/lib/kube/kube.ts';

const event = (name: string, at: string, reason: string, message: string, involved: object): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name, namespace: 'flink' },
  lastTimestamp: at,
  type: reason === 'BackOff' ? 'Warning' : 'Normal',
  reason,
  message,
  involvedObject: involved,
});

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'tm-1', namespace: 'flink', uid: 'u-1', labels: { app: 'hello' }, creationTimestamp: '2024-05-01T10:00:00Z' },
  spec: { nodeName: 'worker', containers: [{ name: 'flink-main-container', image: 'hello:1' }] },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [flink-main-container]' }],
    containerStatuses: [
      {
        name: 'flink-main-container',
        image: 'hello:1',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
        lastState: { terminated: { reason: 'Error', exitCode: 1, startedAt: '2024-05-01T10:01:00Z', finishedAt: '2024-05-01T10:01:05Z' } },
      },
    ],
  },
};

const events = [
  event('e2', '2024-05-01T10:02:00Z', 'BackOff', 'Back-off restarting failed container', { kind: 'Pod', name: 'tm-1', uid: 'u-1' }),
  event('e1', '2024-05-01T10:00:01Z', 'Scheduled', 'Successfully assigned flink/tm-1 to worker', { kind: 'Pod', name: 'tm-1', uid: 'u-1' }),
  event('e3', '2024-05-01T10:00:30Z', 'ScalingReplicaSet', 'Scaled up', { kind: 'Deployment', name: 'hello' }),
];

describe('describePod', () => {
  it('shows phase, conditions, container states with reasons, restarts and the pod events in time order', () => {
    const text = describePod(pod, events);
    expect(text).toContain('Phase:       Running');
    expect(text).toContain('Ready=False ContainersNotReady: containers with unready status: [flink-main-container]');
    expect(text).toContain('State:      Waiting: CrashLoopBackOff - back-off 40s restarting failed container');
    expect(text).toContain('Last state: Terminated: Error (exit 1)');
    expect(text).toContain('Restarts:   3');
    const own = text.slice(text.indexOf('Events:'));
    expect(own.indexOf('Scheduled')).toBeLessThan(own.indexOf('BackOff'));
    expect(own).not.toContain('ScalingReplicaSet');
  });
});

describe('events', () => {
  it('are listed oldest first, one line each', () => {
    const lines = eventsText(events).trim().split('\n');
    expect(lines.map((l) => l.split('  ')[2])).toEqual(['Scheduled', 'ScalingReplicaSet', 'BackOff']);
    expect(lines[2]).toBe('2024-05-01T10:02:00Z  Warning  BackOff  Pod/tm-1  Back-off restarting failed container');
    expect(eventsText([])).toBe('no events\n');
  });
  it('are matched to an object by uid', () => {
    expect(eventsFor(events, pod).map((e) => e.metadata.name)).toEqual(['e2', 'e1']);
  });
});

describe('errorText', () => {
  it('gives the message, the cause chain and the hint; a stack only for bugs', () => {
    const root = new Error('ECONNRESET');
    const err = new SandboxError('failed to install ECK operator', { cause: new SandboxError('apply Deployment elastic-system/elastic-operator: boom', { cause: root }), hint: 'run again' });
    const text = errorText(err);
    expect(text.split('\n').slice(0, 4)).toEqual([
      'failed to install ECK operator',
      '  caused by: apply Deployment elastic-system/elastic-operator: boom',
      '  caused by: ECONNRESET',
      'hint: run again',
    ]);
    expect(text).toContain('at '); // the plain Error is a bug: its stack is kept
    expect(errorText(new SandboxError('timed out'))).toBe('timed out\n');
    expect(errorText(undefined)).toBe('no error was recorded\n');
  });
});
