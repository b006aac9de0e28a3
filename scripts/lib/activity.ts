// What the process is doing right now: the external commands it runs and the steps or scenario
// phases in progress. Read by the one place that cannot wait to be told: a second Ctrl-C exits
// at once (services.ts), and says what it cut short. No imports, so reading it costs nothing.

const commands = new Map<number, string>();
const tasks = new Map<number, string>();
let nextTask = 1;

/** A child process started (pid) running `what` (e.g. "helm upgrade --install cert-manager ..."). */
export function commandStarted(pid: number, what: string): void {
  commands.set(pid, what);
}

export function commandEnded(pid: number): void {
  commands.delete(pid);
}

/** Something in progress ("cert-manager: applying", "scenario deploy: act"); returns its setter and end. */
export function taskStarted(what: string): { update(what: string): void; end(): void } {
  const id = nextTask++;
  tasks.set(id, what);
  return {
    update: (now: string) => {
      if (tasks.has(id)) tasks.set(id, now);
    },
    end: () => void tasks.delete(id),
  };
}

export interface InProgress {
  /** The commands still running, by what they are. */
  commands: string[];
  /** Steps or scenario phases still running. */
  tasks: string[];
}

export function inProgress(): InProgress {
  return { commands: [...commands.values()], tasks: [...tasks.values()] };
}
