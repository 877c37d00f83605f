// The Kubernetes manifests, parsed and held to what the daemon and the image need: the image of this
// version, port 9469 and the probe paths, a locked-down security context, Recreate for the state lock,
// mounts at the paths the ConfigMap's config names (and that config loading for real), the Service and
// ServiceMonitor giving the job label the rules select, and a PrometheusRule equal to rules.yml.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, basename, join } from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { execForm, parseDockerfile, runtimeEnv } from "./dockerfile.js";
import { alertsOf, projectFile, readProjectText, readYaml, shippedRules, type RuleGroup } from "./files.js";

interface Probe {
  readonly httpGet: { readonly path: string; readonly port: number | string };
}

interface Mount {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
  readonly subPath?: string;
}

interface Container {
  readonly name: string;
  readonly image: string;
  readonly args: readonly string[];
  readonly ports: readonly { readonly name: string; readonly containerPort: number }[];
  readonly livenessProbe: Probe;
  readonly readinessProbe: Probe;
  readonly resources: {
    readonly requests: Record<string, string>;
    readonly limits: Record<string, string>;
  };
  readonly securityContext: {
    readonly allowPrivilegeEscalation: boolean;
    readonly readOnlyRootFilesystem: boolean;
    readonly runAsNonRoot: boolean;
    readonly capabilities: { readonly drop: readonly string[]; readonly add?: readonly string[] };
    readonly seccompProfile: { readonly type: string };
  };
  readonly volumeMounts: readonly Mount[];
}

interface Volume {
  readonly name: string;
  readonly configMap?: { readonly name: string };
  readonly secret?: { readonly secretName: string };
  readonly persistentVolumeClaim?: { readonly claimName: string };
  readonly emptyDir?: Record<string, unknown>;
}

interface Deployment {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly replicas: number;
    readonly strategy: { readonly type: string };
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly template: {
      readonly metadata: { readonly labels: Record<string, string> };
      readonly spec: {
        readonly securityContext: {
          readonly runAsNonRoot: boolean;
          readonly runAsUser: number;
          readonly runAsGroup: number;
          readonly fsGroup: number;
          readonly seccompProfile: { readonly type: string };
        };
        readonly containers: readonly Container[];
        readonly volumes: readonly Volume[];
      };
    };
  };
}

interface Resource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
}

interface Service extends Resource {
  readonly spec: {
    readonly selector: Record<string, string>;
    readonly ports: readonly {
      readonly name: string;
      readonly port: number;
      readonly targetPort: string | number;
    }[];
  };
}

interface ServiceMonitor extends Resource {
  readonly spec: {
    readonly jobLabel?: string;
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly endpoints: readonly {
      readonly port: string;
      readonly path: string;
      readonly interval: string;
    }[];
  };
}

interface ConfigMap extends Resource {
  readonly data: Record<string, string>;
}

interface Secret extends Resource {
  readonly stringData: Record<string, string>;
}

interface Kustomization {
  readonly resources: readonly string[];
  readonly images: readonly { readonly name: string; readonly newName?: string; readonly newTag: string }[];
}

const DIR = "config/kubernetes";
const load = <T>(file: string): T => readYaml<T>(`${DIR}/${file}`);
const version = (JSON.parse(readProjectText("package.json")) as { version: string }).version;
const deployment = load<Deployment>("deployment.yaml");
const pod = deployment.spec.template.spec;
const container = pod.containers[0]!;
const configMap = load<ConfigMap>("configmap.yaml");
const config = parse(configMap.data["config.yaml"]!) as {
  accounts: { api_key_file: string }[];
  listen: string;
  state_dir: string;
};
const secret = load<Secret>("secret.example.yaml");
const pvc = load<Resource>("pvc.yaml");
const service = load<Service>("service.yaml");
const monitor = load<ServiceMonitor>("servicemonitor.yaml");
const kustomization = load<Kustomization>("kustomization.yaml");
const dockerfile = parseDockerfile(readProjectText("Dockerfile"));

function mount(name: string): Mount {
  const found = container.volumeMounts.find((m) => m.name === name);
  if (!found) throw new Error(`no volume mount ${name}`);
  return found;
}

function volume(name: string): Volume {
  const found = pod.volumes.find((v) => v.name === name);
  if (!found) throw new Error(`no volume ${name}`);
  return found;
}

/** A probe's port, named or numbered, as the container port number it reaches. */
function probePort(probe: Probe): number | undefined {
  const { port } = probe.httpGet;
  return typeof port === "number" ? port : container.ports.find((p) => p.name === port)?.containerPort;
}

describe("Deployment", () => {
  it("runs one replica, replaced with Recreate so two pods never contend for the state lock", () => {
    expect(deployment.kind).toBe("Deployment");
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe("Recreate");
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(pod.containers).toHaveLength(1);
  });

  it("runs the image of this version with the image's own command line", () => {
    expect(container.image).toBe(`sendgrid-sso-certs:${version}`);
    const cmd = dockerfile.find((i) => i.keyword === "CMD" && i.stage === 1)!;
    expect(container.args).toEqual(execForm(cmd.args));
  });

  it("exposes 9469 and probes /healthz (liveness) and /readyz (readiness) on it", () => {
    expect(container.ports).toEqual([{ name: "metrics", containerPort: 9469, protocol: "TCP" }]);
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(probePort(container.livenessProbe)).toBe(9469);
    expect(probePort(container.readinessProbe)).toBe(9469);
    expect(config.listen).toBe("0.0.0.0:9469");
  });

  it("is locked down: non-root, read-only root, no capabilities, no privilege escalation, seccomp", () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    const user = dockerfile.find((i) => i.keyword === "USER" && i.stage === 1)!.args;
    expect(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`).toBe(user);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext.capabilities.add).toBeUndefined();
  });

  it("sets resource requests and limits", () => {
    expect(Object.keys(container.resources.requests).sort()).toEqual(["cpu", "memory"]);
    expect(container.resources.limits.memory).toMatch(/^\d+Mi$/);
  });

  it("requests the measured steady memory of the image's runtime (Node 24), with headroom, under the limit", () => {
    // The real daemon's highest RSS over 200 scans, started as the image starts it (bench/daemon-memory.ts).
    const measured = JSON.parse(readProjectText("bench/results-node24.json")) as {
      memory?: { peak_rss_mb?: number };
    };
    const peak = measured.memory?.peak_rss_mb;
    expect(peak).toBeDefined();
    const mib = (quantity: string | undefined) => Number(/^(\d+)Mi$/.exec(quantity ?? "")?.[1] ?? NaN);
    const request = mib(container.resources.requests.memory);
    expect(request).toBeGreaterThanOrEqual(Number(peak) * 1.15);
    expect(request).toBeLessThanOrEqual(mib(container.resources.limits.memory));
  });

  it("mounts the config, the API key, the state and /tmp where the config and the image expect them", () => {
    const configFile = container.args[container.args.indexOf("--config") + 1]!;
    expect(mount("config").mountPath).toBe(dirname(configFile));
    expect(volume("config").configMap?.name).toBe(configMap.metadata.name);
    expect(Object.keys(configMap.data)).toEqual([basename(configFile)]);

    const keyFile = config.accounts[0]!.api_key_file;
    expect(mount("api-key").mountPath).toBe(dirname(keyFile));
    // A subPath mount would never see a rotated Secret.
    expect(mount("api-key").subPath).toBeUndefined();
    expect(volume("api-key").secret?.secretName).toBe(secret.metadata.name);
    expect(Object.keys(secret.stringData)).toEqual([basename(keyFile)]);

    expect(mount("state").mountPath).toBe(config.state_dir);
    expect(config.state_dir).toBe(runtimeEnv(dockerfile).get("STATE_DIR"));
    expect(volume("state").persistentVolumeClaim?.claimName).toBe(pvc.metadata.name);

    expect(mount("tmp").mountPath).toBe("/tmp");
    expect(volume("tmp").emptyDir).toBeDefined();

    for (const name of ["config", "api-key"]) expect(mount(name).readOnly, name).toBe(true);
    expect(container.volumeMounts.map((m) => m.name).sort()).toEqual(pod.volumes.map((v) => v.name).sort());
  });
});

describe("ConfigMap", () => {
  const dir = mkdtempSync(join(tmpdir(), "sso-k8s-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("holds a configuration the daemon accepts, with the key read from the mounted Secret", () => {
    // The Secret's file exists only in the pod: point the one path at a stand-in, keep the rest verbatim.
    const keyFile = join(dir, "api-key");
    writeFileSync(keyFile, "SG.stand-in-for-the-mounted-secret\n");
    const document = parse(configMap.data["config.yaml"]!) as { accounts: { api_key_file: string }[] };
    document.accounts[0]!.api_key_file = keyFile;
    const file = join(dir, "config.yaml");
    writeFileSync(file, stringify(document));
    const loaded = loadConfig({ file, env: {}, cwd: dir });
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
    if (!loaded.ok) return;
    expect(loaded.config.listen).toEqual({ host: "0.0.0.0", port: 9469 });
    expect(loaded.config.stateDir).toBe("/var/lib/sendgrid-sso-certs");
    expect(loaded.config.rotation.enabled).toBe(false);
  });

  it("ships no API key, only the Secret example's placeholder", () => {
    expect(configMap.data["config.yaml"]).not.toMatch(/api_key:|SG\./);
    expect(Object.values(secret.stringData)).toEqual(["REPLACE_WITH_YOUR_SENDGRID_API_KEY"]);
  });
});

describe("Service and ServiceMonitor", () => {
  it("select the pod and its metrics port", () => {
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toEqual([
      { name: "metrics", port: 9469, targetPort: "metrics", protocol: "TCP" },
    ]);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints).toEqual([
      { port: "metrics", path: "/metrics", interval: "60s", scrapeTimeout: "10s" },
    ]);
  });

  it("give the scraped series the job label the alert rules select", () => {
    // Without jobLabel, the Prometheus Operator names the job after the Service.
    expect(monitor.spec.jobLabel).toBeUndefined();
    const jobs = alertsOf(shippedRules()).flatMap((rule) =>
      [...rule.expr.matchAll(/\bjob="([^"]*)"/g)].map((match) => match[1]),
    );
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job).toBe(service.metadata.name);
  });
});

describe("PrometheusRule", () => {
  it("holds exactly the groups of config/prometheus/rules.yml", () => {
    const rule = load<Resource & { spec: { groups: RuleGroup[] } }>("prometheusrule.yaml");
    expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(rule.kind).toBe("PrometheusRule");
    // On failure, regenerate it with the command in its header comment.
    expect(rule.spec.groups).toEqual(shippedRules().groups);
  });
});

describe("kustomization", () => {
  it("applies every manifest except the Secret example", () => {
    const manifests = readdirSync(projectFile(DIR)).filter(
      (file) => file.endsWith(".yaml") && file !== "kustomization.yaml" && file !== "secret.example.yaml",
    );
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
  });

  it("pins the image to this version", () => {
    expect(kustomization.images).toEqual([
      { name: "sendgrid-sso-certs", newName: "sendgrid-sso-certs", newTag: version },
    ]);
  });

  it("gives every manifest the app label the selectors use", () => {
    for (const file of [...kustomization.resources, "secret.example.yaml"]) {
      const resource = load<Resource>(file);
      expect(resource.metadata.labels?.["app.kubernetes.io/name"], file).toBe("sendgrid-sso-certs");
    }
  });
});
