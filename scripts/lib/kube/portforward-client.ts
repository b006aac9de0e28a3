// client-node's PortForward, on its own: scripts/build.mjs bundles this file apart from the CLI
// (dist/portforward-client.js). PortForward's other methods use the generated API clients, which
// bring every model: about 4.5 MB that only a port-forward needs. Bundled with the rest, esbuild
// would put them in the chunk every command that talks to the cluster loads.
export { PortForward } from '@kubernetes/client-node';
