import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Manifest, RenderedChart } from './rendered-chart.js';

/** Secrets and ConfigMaps an admin created in the namespace before installing: name → key → content. */
export interface NamespaceObjects {
  secrets: Record<string, Record<string, string>>;
  configMaps: Record<string, Record<string, string>>;
}

/** The container's view of the filesystem, laid out under a host folder. */
export interface MountedContainer {
  /** The container's mount points, longest first. */
  mountPaths: string[];
  /** Host path of a path inside the container (which must be under a mount). */
  hostPath(containerPath: string): string;
  /** The bridge's `--config` argument, as a host path. */
  configFile: string;
}

interface KeyToPath {
  key: string;
  path: string;
}

interface VolumeSource {
  name: string;
  items?: KeyToPath[];
}

interface Volume {
  name: string;
  projected?: { sources: { secret?: VolumeSource; configMap?: VolumeSource }[] };
  configMap?: VolumeSource;
  secret?: VolumeSource & { secretName?: string };
  emptyDir?: object;
}

function writeItems(
  dir: string,
  source: VolumeSource,
  kind: string,
  data: Record<string, string> | undefined,
): void {
  if (data === undefined) throw new Error(`the pod mounts ${kind} ${source.name}, which does not exist`);
  const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of items) {
    const content = data[item.key];
    // The kubelet refuses to start a pod whose volume names a missing key (non-optional items).
    if (content === undefined) throw new Error(`${kind} ${source.name} has no key ${item.key}`);
    const file = join(dir, item.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: 0o600 });
  }
}

/**
 * Does what the kubelet does for the bridge's container: writes every configMap, secret, projected
 * and emptyDir volume the container mounts under `root` + mount path, from the chart's own objects
 * and the admin's `objects`. Throws like a pod stuck in ContainerCreating when something is missing.
 */
export function mountContainer(
  chart: RenderedChart,
  objects: NamespaceObjects,
  root: string,
): MountedContainer {
  const podSpec = chart.deployment.spec.template.spec;
  const container = podSpec.containers[0];
  const volumes = new Map<string, Volume>((podSpec.volumes as Volume[]).map((v) => [v.name, v]));
  const ownConfigMaps = Object.fromEntries(
    chart.all('ConfigMap').map((m: Manifest) => [m.metadata.name, m.data ?? {}]),
  );
  const configMapData = (name: string) => ownConfigMaps[name] ?? objects.configMaps[name];

  const mountPaths: string[] = [];
  for (const mount of container.volumeMounts as { name: string; mountPath: string }[]) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} names no volume`);
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    mountPaths.push(mount.mountPath);
    for (const source of volume.projected?.sources ?? []) {
      if (source.secret) writeItems(dir, source.secret, 'Secret', objects.secrets[source.secret.name]);
      if (source.configMap)
        writeItems(dir, source.configMap, 'ConfigMap', configMapData(source.configMap.name));
    }
    if (volume.configMap)
      writeItems(dir, volume.configMap, 'ConfigMap', configMapData(volume.configMap.name));
    if (volume.secret) {
      const name = volume.secret.secretName ?? volume.secret.name;
      writeItems(dir, { ...volume.secret, name }, 'Secret', objects.secrets[name]);
    }
  }
  mountPaths.sort((a, b) => b.length - a.length);

  const hostPath = (containerPath: string) => {
    const mount = mountPaths.find((m) => containerPath === m || containerPath.startsWith(`${m}/`));
    if (mount === undefined) throw new Error(`${containerPath} is not under any volume mount`);
    return join(root, containerPath);
  };
  const args = container.args as string[];
  const configArg = args[args.indexOf('--config') + 1];
  if (configArg === undefined) throw new Error('the container is not started with --config FILE');
  return { mountPaths, hostPath, configFile: hostPath(configArg) };
}

/**
 * The configuration text with every absolute path under a mount rewritten to its host path (in one
 * pass, so a host folder that itself lies under e.g. /tmp is not rewritten twice), so the project's
 * own loader reads the files the pod would see.
 */
export function configTextOnHost(text: string, mounted: MountedContainer): string {
  const escaped = mounted.mountPaths.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`(^|[\\s'":])(${escaped.join('|')})/`, 'gm');
  return text.replace(
    pattern,
    (_all, before: string, mount: string) => `${before}${mounted.hostPath(mount)}/`,
  );
}
