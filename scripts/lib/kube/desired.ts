// Check-then-act for manifests (ctlptl's Apply): an object is in place when every field
// we declare has the same value in the live object. Fields the server or controllers
// add (defaults, status, managedFields) do not count as differences.

/**
 * A zero value the API server does not keep: Go's `omitempty` drops an empty string, false, 0,
 * an empty list or map from what it returns (an env entry's `value: ""` comes back without
 * `value`). A field that must keep its zero value is a pointer in Go and comes back as given.
 */
function isOmittedZero(desired: unknown): boolean {
  if (desired === '' || desired === false || desired === 0) return true;
  if (Array.isArray(desired)) return desired.length === 0;
  return desired !== null && typeof desired === 'object' && Object.keys(desired).length === 0;
}

export function containsDesired(desired: unknown, live: unknown): boolean {
  if (live === undefined && isOmittedZero(desired)) return true;
  if (desired === null || typeof desired !== 'object') {
    // Kubernetes normalises numbers in quantities and int-or-string fields to strings.
    return desired === live || (typeof live === 'string' && typeof desired === 'number' && String(desired) === live);
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((d, i) => containsDesired(d, live[i]));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const liveObj = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => containsDesired(v, liveObj[k]));
}

/** The first differing path, for the message shown before a change is applied. */
export function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  if (containsDesired(desired, live)) return undefined;
  if (desired !== null && typeof desired === 'object' && live !== null && typeof live === 'object') {
    if (Array.isArray(desired)) {
      if (!Array.isArray(live) || live.length !== desired.length) return `${path || '.'} (list of ${desired.length}, live has ${Array.isArray(live) ? live.length : 'none'})`;
      for (let i = 0; i < desired.length; i++) {
        const d = firstDifference(desired[i], live[i], `${path}[${i}]`);
        if (d) return d;
      }
    } else {
      for (const [k, v] of Object.entries(desired as Record<string, unknown>)) {
        const d = firstDifference(v, (live as Record<string, unknown>)[k], `${path}.${k}`);
        if (d) return d;
      }
    }
  }
  return `${path || '.'}: want ${JSON.stringify(desired)?.slice(0, 80)}, live ${JSON.stringify(live)?.slice(0, 80)}`;
}
