// Which scenarios run: names are checked up front, and "all" on a minimal sandbox leaves out the
// ones that need the logging pipeline, saying so.
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios/index.ts';
import { forProfile, pickScenarios } from '../../scenarios/suite.ts';

describe('pickScenarios', () => {
  it('keeps the order given and refuses unknown names with the known ones as the hint', () => {
    expect(pickScenarios(['upgrade', 'deploy']).map((s) => s.name)).toEqual(['upgrade', 'deploy']);
    expect(() => pickScenarios(['deploy', 'nope'])).toThrow('unknown scenario: nope');
    expect(pickScenarios([])).toHaveLength(SCENARIOS.length);
  });
});

describe('forProfile', () => {
  const all = pickScenarios([]);
  it('leaves the full-profile scenarios out of "all" on a minimal sandbox, with a note', () => {
    const { run, note } = forProfile(all, false, 'minimal');
    expect(run.map((s) => s.name)).not.toContain('logs-in-elasticsearch');
    expect(run).toHaveLength(all.length - 1);
    expect(note).toBe('not run on the minimal profile: logs-in-elasticsearch (they need `sandbox up --profile full`)');
  });
  it('runs everything on the full profile, and named scenarios whatever the profile', () => {
    expect(forProfile(all, false, 'full').run).toHaveLength(all.length);
    expect(forProfile(pickScenarios(['logs-in-elasticsearch']), true, 'minimal').run.map((s) => s.name)).toEqual(['logs-in-elasticsearch']);
  });
});
