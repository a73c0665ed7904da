export * from './group.js';
export * from './formats.js';
export * from './spec.js';
export * from './identity.js';
export * from './status.js';
export * from './chattenant.js';
export * from './resolved.js';
export * from './settings.js';
