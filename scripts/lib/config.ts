// The one typed, commented configuration of the sandbox: versions, images, names,
// ports and profiles. Users override any of it with `--config <file>` (YAML or JSON,
// deep-merged over these defaults) and a few flags. Per-run variations of manifests
// are made in typed code from this object, never by editing YAML text.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { checkConfig } from './config-schema.ts';
import { UsageError } from './errors.ts';

export type Profile = 'full' | 'minimal';
export type ClusterProvider = 'kind' | 'k3s' | 'existing';

export interface ToolPin {
  /** Version downloaded when the tool is not on PATH. */
  version: string;
  /**
   * Download URL template: {version}, {os} (linux|darwin), {arch} (amd64|arm64).
   * The checksum file is looked up at `${url}${checksumSuffix}` unless `sha256` pins it.
   */
  url: string;
  checksumSuffix: string;
  /** Pinned sha256 per `${os}-${arch}`, used instead of the published checksum file when present. */
  sha256?: Record<string, string>;
  /** For archives (helm): the path of the binary inside the archive, with the same placeholders. */
  archivePath?: string;
}

export interface SandboxConfig {
  /** Profile `full`: everything but the UI extras; `minimal`: cluster, MinIO, cert-manager, operator, job image. */
  profile: Profile;
  /** Optional extras, e.g. `ui` (ingress-nginx + Heimdall). */
  with: string[];
  cluster: {
    provider: ClusterProvider;
    /** kind cluster name; the kube context is `kind-<name>`. */
    name: string;
    /** Existing kube context (provider `existing`, set by `--context`). */
    context?: string;
    /** kind node image, pinned by digest: kind only guarantees images built for its own release. */
    nodeImage: string;
    /** K3s image for `--cluster k3s` (testcontainers). */
    k3sImage: string;
    /** Host ports mapped to the worker node for ingress; change them when 80/443 are taken. */
    ingressHttpPort: number;
    ingressHttpsPort: number;
  };
  tools: {
    kind: ToolPin;
    kubectl: ToolPin;
    helm: ToolPin;
  };
  /** Pinned versions of what `up` installs; the README says why each was chosen. */
  components: {
    certManager: { chart: string; version: string; repo: string };
    flinkOperator: {
      version: string;
      /** Tried in order: downloads.apache.org serves only current releases, archive.apache.org all. */
      repos: string[];
    };
    /** Exact Flink version of the job image (flink:<version>-java17) and its S3 plugin jar. */
    flink: { version: string };
    eck: { version: string; baseUrl: string };
    loggingOperator: { chart: string; version: string };
    ingressNginx: { version: string; manifestUrl: string };
  };
  namespaces: {
    /** Where the Flink job runs (the blog used `default`). */
    job: string;
    minio: string;
    certManager: string;
    operator: string;
    eckOperator: string;
    logging: string;
  };
  timeouts: {
    /** Default for one step's readiness gate, in seconds. */
    stepSeconds: number;
    /** Elasticsearch needs longer: image pull plus 1-2 minutes per node. */
    elasticsearchSeconds: number;
    /** A pull failure that is not clearly permanent (or an unschedulable pod) may last this long. */
    imagePullSeconds: number;
  };
  scenarios: {
    /**
     * How long before the last observation a record may still be on its way (in Flink's network
     * buffers, the kubelet's log file, our stream): missing numbers that recent are "unseen", not lost.
     */
    settleSeconds: number;
    /** After a fault (or a resume), the job must pass its pre-fault number within this long. */
    livenessSeconds: number;
  };
  /** Job image to use instead of building job/ (required with --context unless Docker is local). */
  jobImage?: string;
}

export const defaults: SandboxConfig = {
  profile: 'full',
  with: [],
  cluster: {
    provider: 'kind',
    name: 'flink-sandbox',
    // The image kind v0.32.0's release notes publish for Kubernetes 1.36.1.
    nodeImage: 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
    k3sImage: 'rancher/k3s:v1.36.1-k3s1',
    ingressHttpPort: 80,
    ingressHttpsPort: 443,
  },
  tools: {
    kind: {
      version: 'v0.32.0',
      url: 'https://kind.sigs.k8s.io/dl/{version}/kind-{os}-{arch}',
      checksumSuffix: '.sha256sum',
      // The release's kind-<os>-<arch>.sha256sum files, pinned so a download is checked
      // against a value that did not come from the same server.
      sha256: {
        'linux-amd64': '50030de23cf40a18505f20426f6a8506bedf13c6e509244bd1fa9463721b0f54',
        'linux-arm64': 'b92cd615e97585de8ddade28ed5cd7feb4248d717c233eea5b03c37298900f5d',
        'darwin-amd64': '295ac6d0d634c9819c9907df45e3017d1f13166bd13c3404c45e79f7faa47498',
        'darwin-arm64': 'dca67911095a110c2b5c36e26df6cac860c602033e456c0db47be498cdef1ebb',
      },
    },
    kubectl: {
      version: 'v1.36.1',
      url: 'https://dl.k8s.io/release/{version}/bin/{os}/{arch}/kubectl',
      checksumSuffix: '.sha256',
    },
    // Helm 4: Helm 3 had its last feature release in September 2026 (security fixes until
    // February 2027). `--wait` alone means the kstatus watcher in Helm 4 (`--wait=legacy` is
    // Helm 3's waiter); `helm list -o json` and oci:// charts work as in Helm 3.
    helm: {
      version: 'v4.3.0',
      url: 'https://get.helm.sh/helm-{version}-{os}-{arch}.tar.gz',
      checksumSuffix: '.sha256sum',
      // From the v4.3.0 release notes (github.com/helm/helm/releases/tag/v4.3.0).
      sha256: {
        'linux-amd64': '86584a54def73570558f66f5111cc53dfed56689637ae32c1201205d494f54fb',
        'linux-arm64': '31c5794dd55c66a51e6b7d2e2ac7a114ae8b1de41ff1d9ba51748ac973b06a08',
        'darwin-amd64': '347a784877e0e20eac865e8d1c36a80f6bb0861d6f29abd34defb6570ef95d92',
        'darwin-arm64': 'd3870437e1e95b67f8edbde964156c84a26503f560821d40c542441658934fba',
      },
      archivePath: '{os}-{arch}/helm',
    },
  },
  components: {
    certManager: { chart: 'cert-manager', version: 'v1.21.1', repo: 'https://charts.jetstack.io' },
    flinkOperator: {
      version: '1.15.0',
      repos: [
        'https://downloads.apache.org/flink/flink-kubernetes-operator-{version}/',
        'https://archive.apache.org/dist/flink/flink-kubernetes-operator-{version}/',
      ],
    },
    flink: { version: '1.20.4' },
    eck: { version: '3.5.0', baseUrl: 'https://download.elastic.co/downloads/eck/{version}' },
    loggingOperator: { chart: 'oci://ghcr.io/kube-logging/helm-charts/logging-operator', version: '6.7.0' },
    ingressNginx: {
      version: 'controller-v1.15.1',
      manifestUrl: 'https://raw.githubusercontent.com/kubernetes/ingress-nginx/{version}/deploy/static/provider/kind/deploy.yaml',
    },
  },
  namespaces: {
    job: 'default',
    minio: 'minio',
    certManager: 'cert-manager',
    operator: 'flink-operator',
    eckOperator: 'elastic-system',
    logging: 'logging',
  },
  timeouts: {
    stepSeconds: 300,
    elasticsearchSeconds: 600,
    imagePullSeconds: 120,
  },
  scenarios: {
    settleSeconds: 5,
    livenessSeconds: 120,
  },
};

/** Flags that override the config file. */
export interface ConfigFlags {
  config?: string;
  context?: string;
  profile?: string;
  with?: string[];
  cluster?: string;
  jobImage?: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep-merges `over` into `base` (mappings key by key, anything else replaced as a whole).
 * The overrides are checked against the schema first, so every key here is a known one.
 */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(over) || !isPlainObject(base)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeConfig(Object.hasOwn(base, key) ? base[key] : undefined, value);
  return out;
}

export { EXTRAS } from './config-schema.ts';

/** Reads the config file (if any), applies flags, validates the result. */
export async function loadConfig(flags: ConfigFlags = {}): Promise<SandboxConfig> {
  let merged: unknown = defaults;
  if (flags.config) {
    let text: string;
    try {
      text = await readFile(flags.config, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read config file ${flags.config}`, {
        cause: err,
        hint: 'pass the path of a YAML or JSON file with overrides, e.g. --config sandbox.yaml',
      });
    }
    let user: unknown;
    try {
      user = parseYaml(text);
    } catch (err) {
      throw new UsageError(`config file ${flags.config} is not valid YAML`, { cause: err, hint: 'fix the line the parser names; the README\'s "Configuration" shows the format' });
    }
    if (user !== null && user !== undefined) {
      if (!isPlainObject(user)) {
        throw new UsageError(`config file ${flags.config} must hold a mapping`, { hint: 'write keys and values (`profile: minimal`), as in the README\'s "Configuration"' });
      }
      checkConfig(user, { overrides: true });
      merged = mergeConfig(defaults, user);
    }
  }
  const cfg = structuredClone(merged) as SandboxConfig;
  if (flags.profile !== undefined) cfg.profile = flags.profile as Profile;
  if (flags.with !== undefined) cfg.with = [...new Set([...cfg.with, ...flags.with])];
  if (flags.cluster !== undefined) cfg.cluster.provider = flags.cluster as ClusterProvider;
  if (flags.context !== undefined) {
    cfg.cluster.provider = 'existing';
    cfg.cluster.context = flags.context;
  }
  if (flags.jobImage !== undefined) cfg.jobImage = flags.jobImage;
  // Flags land in the same schema as the file.
  checkConfig(cfg);
  crossChecks(cfg);
  return cfg;
}

/** What one key's schema cannot say: rules between keys. */
function crossChecks(cfg: SandboxConfig): void {
  if (cfg.cluster.provider === 'existing' && !cfg.cluster.context) {
    throw new UsageError('cluster provider "existing" needs a kube context', {
      hint: 'pass --context <kube-context> (see `kubectl config get-contexts`)',
    });
  }
  if (cfg.cluster.ingressHttpPort === cfg.cluster.ingressHttpsPort) {
    throw new UsageError('cluster.ingressHttpPort and cluster.ingressHttpsPort must differ', {
      hint: `got both = ${cfg.cluster.ingressHttpPort}; allowed: two different free host ports, e.g. 8080 and 8443`,
    });
  }
}

/** The kube context the sandbox works in. */
export function kubeContext(cfg: SandboxConfig): string {
  if (cfg.cluster.provider === 'existing') return cfg.cluster.context ?? '';
  return `kind-${cfg.cluster.name}`;
}
