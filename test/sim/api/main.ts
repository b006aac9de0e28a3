// Runs the fake API server on its own, for manual use:
//   node test/sim/api/main.ts [--port 8001]
// then point a kubeconfig (or curl) at the printed URL. Ctrl-C stops it.
import { startSimServer } from './server.ts';

const i = process.argv.indexOf('--port');
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
const sim = await startSimServer({ port });
console.log(sim.url);
const stop = (): void => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
