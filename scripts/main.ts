// The executable's entry (bundled as dist/cli.js): runs the CLI and exits with its code. Apart
// from cli.ts so that tests can import cli.ts and run main() without the process exiting.
import { runCli } from './cli.ts';

await runCli();
