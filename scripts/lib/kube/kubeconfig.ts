// The kubeconfig as client-node reads it: a module of its own so that connect.ts loads
// client-node only once a kubeconfig file exists, with a static import (the bundle keeps only
// the parts of client-node the CLI uses).
import { KubeConfig } from '@kubernetes/client-node';

/** The given file, or client-node's default lookup ($KUBECONFIG, ~/.kube/config, in-cluster). */
export function readKubeconfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}
