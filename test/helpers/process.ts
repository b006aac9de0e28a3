// Whether a process still runs, for tests that start or hold one.
import { readFileSync } from 'node:fs';

/** True while `pid` runs; a zombie (killed, not yet reaped by its new parent) is dead. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
