// The faults of the installs: helm failing, a release helm left pending, a webhook refusing, a CRD
// never Established, Elasticsearch red; each through the built CLI against its own simulation.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { FAKE_BIN_DIR } from '../sim/harness.ts';
import { bundleFile, closeSimAfterEach, configWith, convergesAgain, expectNoBundle, expectReported, freshSim } from './kit.ts';

closeSimAfterEach();

describe('faults of Helm charts, webhooks and CRDs', () => {
  it('helm fails: the release, the chart, helm\'s own error and a hint', async () => {
    const sim = await freshSim({ faults: { tools: [{ tool: 'helm', match: '^upgrade --install cert-manager', message: 'Error: INSTALLATION FAILED: context deadline exceeded' }] } });
    const args = ['up', '--only', 'preflight,cluster,cert-manager'];
    const res = await runCli(args, { env: sim.env, timeoutMs: 90_000 });
    // The fault fired on the install call.
    expect((await sim.calls('helm')).some((c) => c.argv.slice(0, 3).join(' ') === 'upgrade --install cert-manager')).toBe(true);
    const { bundle } = expectReported(res, {
      message: /helm could not install cert-manager \(chart cert-manager v[\d.]+\): .*failed \(exit 1\): Error: INSTALLATION FAILED: context deadline exceeded/,
      hint: /chart repository/,
    });
    expect(bundleFile(bundle, 'summary.json')).toMatch(/"cert-manager"/);
    await sim.patchFaults({ tools: null });
    await convergesAgain(sim, args);
  });

  it('helm left a pending-install release (killed mid-install): the next up says so, uninstalls it and installs again', async () => {
    const sim = await freshSim();
    await convergesAgain(sim, ['up', '--only', 'preflight,cluster']);
    // The sandbox's own helm command, killed while it waits (as a second Ctrl-C kills helm).
    const plan = JSON.parse((await runCli(['up', '--dry-run', '--json', '--only', 'cert-manager'], { env: sim.env })).stdout) as {
      steps: Array<{ id: string; actions: Array<{ kind: string; argv?: string[] }> }>;
    };
    const argv = plan.steps[0]!.actions.find((a) => a.kind === 'command')!.argv!;
    await sim.patchFaults({ neverReady: ['^cert-manager-'] });
    const helm = spawn(join(FAKE_BIN_DIR, 'helm'), [...argv.slice(1), '--wait', '--timeout', '10m'], { env: sim.env, stdio: 'ignore' });
    const secret = '/api/v1/namespaces/cert-manager/secrets/sh.helm.release.v1.cert-manager.v1';
    await sim.kube.waitFor(secret, (s) => s.metadata.labels?.status === 'pending-install', 30_000);
    helm.kill('SIGKILL');
    await new Promise((r) => helm.once('exit', r));
    await sim.patchFaults({ neverReady: null });
    // The fault is in place: helm itself refuses to touch the release.
    const refused = await sim.tool('helm', argv.slice(1));
    expect(refused.stderr).toMatch(/another operation \(install\/upgrade\/rollback\) is in progress/);

    const args = ['up', '--only', 'preflight,cluster,cert-manager'];
    const res = await convergesAgain(sim, [...args, '--verbose']);
    expect(`${res.stdout}${res.stderr}`).toContain('helm release cert-manager was left pending-install by an interrupted run: uninstalling it to install again');
    expectNoBundle(res, sim.env.SANDBOX_STATE_DIR!);
    const releases = await sim.kube.list('/api/v1/namespaces/cert-manager/secrets', { labelSelector: 'owner=helm,name=cert-manager' });
    expect(releases.map((r) => r.metadata.labels?.status)).toEqual(['deployed']);
    await convergesAgain(sim, args);
  });

  it('a webhook refusing: the webhook, its Service and where its logs are', async () => {
    const sim = await freshSim({ faults: { webhookRefuse: { webhook: 'cert-manager' } } });
    const args = ['up', '--only', 'preflight,cluster,cert-manager'];
    const res = await runCli([...args, '--config', configWith(sim, 'timeouts:\n  stepSeconds: 8\n')], { env: sim.env, timeoutMs: 90_000 });
    const { bundle } = expectReported(res, {
      message: /timed out after 8s waiting for the cert-manager webhook to accept a dry-run Issuer and Certificate; last seen: .*failed calling webhook "webhook\.cert-manager\.io"/,
      hint: /the webhook webhook\.cert-manager\.io \(Service cert-manager\/cert-manager-webhook\) did not accept the call: .* under cert-manager\//,
    });
    const webhookPod = (await sim.kube.list('/api/v1/namespaces/cert-manager/pods')).find((p) => p.metadata.name?.startsWith('cert-manager-webhook-'))!;
    expect(existsSync(join(bundle, 'cert-manager', 'describe', `${webhookPod.metadata.name}.txt`))).toBe(true);
    await sim.patchFaults({ webhookRefuse: null });
    await convergesAgain(sim, args);
  });

  it('a CRD never Established: the kind, the CRD and its condition', async () => {
    const sim = await freshSim({ faults: { crdsNeverEstablished: ['^flinkdeployments\\.'] } });
    const args = ['up', '--only', 'preflight,cluster,cert-manager,flink-operator'];
    const res = await runCli([...args, '--config', configWith(sim, 'timeouts:\n  stepSeconds: 15\n')], { env: sim.env, timeoutMs: 120_000 });
    // The fault fired: the CRD is there, held at Established=False.
    const crd = await sim.kube.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/flinkdeployments.flink.apache.org');
    expect(crd?.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'False' }));
    const { bundle } = expectReported(res, {
      message: /does not serve kind FlinkDeployment in flink\.apache\.org\/v1beta1: its CRD flinkdeployments\.flink\.apache\.org is not Established \(Established=False \(Installing/,
      hint: /kubectl get crd flinkdeployments\.flink\.apache\.org -o yaml/,
    });
    expect(bundleFile(bundle, 'cluster/crds.txt')).toMatch(/^flinkdeployments\.flink\.apache\.org {2}\(not established\)$/m);
    await sim.patchFaults({ crdsNeverEstablished: null });
    await convergesAgain(sim, args);
  });

  it('Elasticsearch red: the health and phase last seen, and where to look', async () => {
    const sim = await freshSim({ faults: { elasticsearch: { health: 'red' } } });
    const args = ['up', '--only', 'preflight,cluster,eck-operator,elasticsearch'];
    const res = await runCli([...args, '--config', configWith(sim, 'timeouts:\n  elasticsearchSeconds: 8\n')], { env: sim.env, timeoutMs: 120_000 });
    // The fault fired: ECK reports the cluster red.
    expect((await sim.kube.get('/apis/elasticsearch.k8s.elastic.co/v1/namespaces/logging/elasticsearches/quickstart'))?.status?.health).toBe('red');
    const { bundle } = expectReported(res, {
      message: /timed out after 8s waiting for Elasticsearch quickstart to be Ready with health green or yellow; last seen: phase \w+, health red/,
      hint: /Elasticsearch pod's log .* red health is often disk or memory pressure/,
    });
    expect(bundleFile(bundle, 'logging/custom/elasticsearches.elasticsearch.k8s.elastic.co.yaml')).toMatch(/health: red/);
    await sim.patchFaults({ elasticsearch: null });
    await convergesAgain(sim, [...args, '--config', sim.configFile]);
  });
});

