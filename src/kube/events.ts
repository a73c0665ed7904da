import type { KubeObjects } from './objects.js';

// Kubernetes Events about a ChatTenant. The tenant is cluster-scoped, so its Events live in the
// "default" namespace, as client-go's recorder does. Messages carry names and reasons, never
// secret values.

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  namespace?: string;
}

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly objects: KubeObjects,
    private readonly component: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async record(involved: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.clock().toISOString();
    const namespace = involved.namespace ?? 'default';
    const suffix = `${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    await this.objects.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.name}.${suffix}`, namespace },
      involvedObject: { apiVersion: involved.apiVersion, kind: involved.kind, name: involved.name, ...(involved.uid ? { uid: involved.uid } : {}), ...(involved.namespace ? { namespace: involved.namespace } : {}) },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }
}
