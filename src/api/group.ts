// Identity of the ChatTenant API. One place, so the CRD, the renderer and the controller agree.
export const API_GROUP = 'chat.tenant-operator.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const KIND = 'ChatTenant';
export const PLURAL = 'chattenants';
export const SINGULAR = 'chattenant';
export const SHORT_NAMES = ['ct'] as const;
export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

/** Name of the finalizer that runs the deletion policy before the tenant goes away. */
export const FINALIZER = `${API_GROUP}/finalizer`;
