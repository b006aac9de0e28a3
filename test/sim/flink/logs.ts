// How the simulated JobManager and TaskManagers write their console lines: the layout named in
// the deployment's log4j-console.properties (the FlinkDeployment's logConfiguration): ECS JSON
// objects for JsonTemplateLayout (what our job configures, job/conf/log4j-console.properties),
// else Flink's default pattern `%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n`.
// The record line itself is HelloJob.SEQ_FORMAT: `SEQ seq={} subtask={} attempt={}`.

export type LogLayout = 'json' | 'pattern';

export function layoutOf(log4jProperties: string | undefined): LogLayout {
  return /layout\.type\s*=\s*JsonTemplateLayout/.test(log4jProperties ?? '') ? 'json' : 'pattern';
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** log4j's `%d{yyyy-MM-dd HH:mm:ss,SSS}` in UTC (the containers' time zone). */
function patternDate(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())},${pad(d.getUTCMilliseconds(), 3)}`;
}

export function logLine(layout: LogLayout, level: 'INFO' | 'WARN' | 'ERROR', logger: string, message: string, thread = 'main'): string {
  const now = new Date();
  if (layout === 'json') {
    // The field set of log4j's EcsLayout.json event template.
    return JSON.stringify({ '@timestamp': now.toISOString(), 'ecs.version': '1.2.0', 'log.level': level, message, 'process.thread.name': thread, 'log.logger': logger });
  }
  return `${patternDate(now)} ${level.padEnd(5)} ${logger.padEnd(60)} [] - ${message}`;
}

/** The hello-world job's record line (HelloJob.SEQ_FORMAT). */
export function sequenceMessage(seq: number, subtask: number, attempt: number): string {
  return `SEQ seq=${seq} subtask=${subtask} attempt=${attempt}`;
}

export const HELLO_LOGGER = 'dev.flinksandbox.hello.HelloJob';
export const HELLO_ENTRY_CLASS = 'dev.flinksandbox.hello.HelloJob';
