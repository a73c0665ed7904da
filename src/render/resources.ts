import type { ResourceRequirements as V1ResourceRequirements } from './wire.js';
import type { ResourcesSpec } from '../api/index.js';

export interface ResourceDefaults {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export const DEFAULT_RESOURCES = {
  messaging: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
  database: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '4Gi' } },
  backup: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  purge: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '250m', memory: '256Mi' } },
} as const satisfies Record<string, ResourceDefaults>;

/** Spec values win field by field over the defaults, so a spec can set only a memory limit. */
export function resourceRequirements(spec: ResourcesSpec | undefined, defaults: ResourceDefaults): V1ResourceRequirements {
  return {
    requests: { cpu: spec?.requests?.cpu ?? defaults.requests.cpu, memory: spec?.requests?.memory ?? defaults.requests.memory },
    limits: { cpu: spec?.limits?.cpu ?? defaults.limits.cpu, memory: spec?.limits?.memory ?? defaults.limits.memory },
  };
}
